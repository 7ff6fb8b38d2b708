-- rule: R10 bookings / R1. One row per closed_won opportunity with a close_date on or before the
-- as-of date, its amount converted to the reporting currency at its close_date (R1: a fact at its own
-- date). A missing rate leaves amount_usd NULL and is_missing_fx_rate true (never zero).
-- A closed_won opportunity without a close_date has no booking date and is left out.
select
    o.opportunity_id,
    o.account_id,
    o.opportunity_type,
    o.close_date,
    {{ month_start('o.close_date') }} as close_month,
    o.amount,
    o.currency,
    {{ to_reporting('o.amount', 'fx') }} as amount_usd,
    fx.units_per_usd is null as is_missing_fx_rate
from {{ ref('int_opportunities_screened') }} as o
{{ fx_join('fx', 'o.currency', 'o.close_date') }}
where o.stage = 'closed_won' and o.close_date <= {{ as_of_date() }}
