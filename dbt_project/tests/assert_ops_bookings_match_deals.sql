-- rule: R10 bookings / quote-to-cash. Every closed_won deal of quote_to_cash is booked once in
-- bookings_monthly, and the type split adds up to the bookings.
select
    'deals' as check_name,
    b.n as booked,
    q.n as expected
from (select sum(deals_won) as n from {{ ref('bookings_monthly') }}) as b
cross join (select count(*) as n from {{ ref('quote_to_cash') }}) as q
where coalesce(b.n, 0) <> q.n

union all

select
    'type_split' as check_name,
    deals_won as booked,
    null as expected
from {{ ref('bookings_monthly') }}
where new_business_usd + expansion_usd + renewal_usd <> bookings_usd
