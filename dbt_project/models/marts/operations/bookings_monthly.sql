-- rule: R10 bookings. Bookings(M) = closed_won opportunity amounts with close_date in M, each
-- converted at its close_date (R1: a fact at its own date), split by opportunity_type. Months from
-- the first booking's month to the as-of month (months without deals kept at 0). A deal without an
-- FX rate counts in deals_won and deals_missing_fx_rate but not in the _usd sums (never as zero).
with months as (
    select s.month
    from {{ month_spine(ref('int_bookings_converted'), 'close_month') }} as s
),

deals as (
    select
        close_month as month,
        count(*) as deals_won,
        sum(case when is_missing_fx_rate then 1 else 0 end) as deals_missing_fx_rate,
        sum(amount_usd) as bookings_usd,
        sum(case when opportunity_type = 'new_business' then amount_usd else 0 end) as new_business_usd,
        sum(case when opportunity_type = 'expansion' then amount_usd else 0 end) as expansion_usd,
        sum(case when opportunity_type = 'renewal' then amount_usd else 0 end) as renewal_usd
    from {{ ref('int_bookings_converted') }}
    group by close_month
)

select
    cast(m.month as date) as month,
    cast(coalesce(d.bookings_usd, 0) as decimal(18, 2)) as bookings_usd,
    cast(coalesce(d.deals_won, 0) as {{ dbt.type_bigint() }}) as deals_won,
    cast(coalesce(d.new_business_usd, 0) as decimal(18, 2)) as new_business_usd,
    cast(coalesce(d.expansion_usd, 0) as decimal(18, 2)) as expansion_usd,
    cast(coalesce(d.renewal_usd, 0) as decimal(18, 2)) as renewal_usd,
    cast(coalesce(d.deals_missing_fx_rate, 0) as {{ dbt.type_bigint() }}) as deals_missing_fx_rate
from months as m
left join deals as d on m.month = d.month
