-- rule: R7 support cost. Per account and month of the ticket's creation (UTC): handle_minutes ×
-- support cost per minute (var support_cost_per_minute, reporting currency, default 1.50). Tickets
-- created on or before the as-of date, not deleted; NULL handle_minutes counts as 0 minutes. Minutes
-- are summed per account-month, multiplied (exact), then rounded to cents once.
with tickets as (
    select
        account_id,
        {{ month_start('cast(created_at as date)') }} as month,
        coalesce(handle_minutes, 0) as handle_minutes
    from {{ ref('int_tickets_screened') }}
    where not is_deleted and cast(created_at as date) <= {{ as_of_date() }}
),

grouped as (
    select
        account_id,
        month,
        count(*) as tickets,
        sum(handle_minutes) as handle_minutes
    from tickets
    group by account_id, month
)

select
    account_id,
    month,
    cast(tickets as {{ dbt.type_bigint() }}) as tickets,
    cast(handle_minutes as decimal(18, 4)) as handle_minutes,
    {{ round_money(mul_money('handle_minutes', "cast('" ~ var('support_cost_per_minute') ~ "' as decimal(18, 4))")) }}
        as support_cost_usd
from grouped
