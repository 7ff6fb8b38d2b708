-- rule: R9. Billing exceptions and revenue leakage per month of period_start, every month from the first
-- reconciled month (computed or issued) to the as-of month (later if a period starts after it), zero
-- months included. computed_usd = all computed lines of the month's keys (the leakage rate's base);
-- expected/issued/leakage of exception keys only; all at the month's snapshot-day rate (R1), missing
-- rates excluded from the sums.
with reconciled as (
    select
        r.*,
        {{ month_start('r.period_start') }} as month,
        fx.units_per_usd is null as is_missing_fx_rate,
        {{ to_reporting('r.expected_amount', 'fx') }} as expected_usd,
        {{ to_reporting('r.issued_amount', 'fx') }} as issued_usd,
        {{ to_reporting('r.leakage', 'fx') }} as leakage_usd
    from {{ ref('int_billing_lines_reconciled') }} as r
    {{ fx_join('fx', 'r.currency', month_snapshot_day(month_start('r.period_start'))) }}
    where r.period_start is not null
),

bounds as (
    select
        min(month) as first_month,
        case
            when max(month) > {{ month_start(as_of_date()) }} then max(month)
            else {{ month_start(as_of_date()) }}
        end as last_month
    from reconciled
),

months as (
    select
        {{ add_months('n.n', 'b.first_month') }} as month
    from bounds as b
    cross join {{ integers(10) }} as n
    where n.n <= {{ months_between('b.first_month', 'b.last_month') }}
),

grouped as (
    select
        month,
        sum(expected_usd) as computed_usd,
        sum(case when exception_type is not null then 1 else 0 end) as exceptions,
        sum(case when exception_type = 'missing_in_billing' then 1 else 0 end) as missing_in_billing,
        sum(case when exception_type = 'unexpected_in_billing' then 1 else 0 end) as unexpected_in_billing,
        sum(case when exception_type = 'amount_mismatch' then 1 else 0 end) as amount_mismatch,
        sum(case when exception_type is not null then expected_usd else 0 end) as expected_usd,
        sum(case when exception_type is not null then issued_usd else 0 end) as issued_usd,
        sum(leakage_usd) as leakage_usd,
        sum(case when exception_type is not null and is_missing_fx_rate then 1 else 0 end) as exceptions_missing_fx_rate
    from reconciled
    group by month
),

combined as (
    select
        m.month,
        coalesce(g.computed_usd, 0) as computed_usd,
        coalesce(g.exceptions, 0) as exceptions,
        coalesce(g.missing_in_billing, 0) as missing_in_billing,
        coalesce(g.unexpected_in_billing, 0) as unexpected_in_billing,
        coalesce(g.amount_mismatch, 0) as amount_mismatch,
        coalesce(g.expected_usd, 0) as expected_usd,
        coalesce(g.issued_usd, 0) as issued_usd,
        coalesce(g.leakage_usd, 0) as leakage_usd,
        coalesce(g.exceptions_missing_fx_rate, 0) as exceptions_missing_fx_rate
    from months as m
    left join grouped as g on m.month = g.month
)

select
    cast(month as date) as month,
    cast(exceptions as {{ dbt.type_bigint() }}) as exceptions,
    cast(missing_in_billing as {{ dbt.type_bigint() }}) as missing_in_billing,
    cast(unexpected_in_billing as {{ dbt.type_bigint() }}) as unexpected_in_billing,
    cast(amount_mismatch as {{ dbt.type_bigint() }}) as amount_mismatch,
    cast(computed_usd as decimal(18, 2)) as computed_usd,
    cast(expected_usd as decimal(18, 2)) as expected_usd,
    cast(issued_usd as decimal(18, 2)) as issued_usd,
    cast(leakage_usd as decimal(18, 2)) as leakage_usd,
    cast(case when computed_usd > 0 then {{ div_round('leakage_usd', 'computed_usd', 6) }} end as decimal(18, 6)) as leakage_rate,
    cast(exceptions_missing_fx_rate as {{ dbt.type_int() }}) as exceptions_missing_fx_rate
from combined
