-- rule: R5 account-month MRR. MRR(account, M) = Σ MRR of its segments active on M's last day
-- (the as-of date in the as-of month), in the account's currency, unrounded (decimal(38,10)).
-- One row per account and month from its first month with a recurring segment to the as-of month,
-- zero months included (churn and reactivation need them). Converted at the month's rate, and the
-- previous month's MRR converted at this month's rate too (for the FX effect and retention ratios).
-- Incremental (macros/incremental.sql): changed accounts' months and the months in the window; the
-- month before the window is recomputed for the previous-month columns, and whether the account had
-- MRR before it is read from this table's row for that month.
{{ incremental_fact('account_id', 'month') }}
with recurring as (
    select *
    from {{ ref('int_subscription_segments_merged') }}
    where charge_type = 'recurring' and status = 'active'
),

accounts as (
    select
        account_id,
        max(currency) as currency,
        min({{ month_start('valid_from') }}) as first_month
    from recurring
    group by account_id
),

account_months as (
    select
        a.account_id,
        a.currency,
        {{ add_months('n.n', 'a.first_month') }} as month
    from accounts as a
    cross join {{ integers(10) }} as n
    where n.n <= {{ months_between('a.first_month', as_of_date()) }}
        and {{ changed_scope('a.account_id', add_months('n.n + 1', 'a.first_month')) }}
),

mrr as (
    select
        am.account_id,
        am.currency,
        am.month,
        {{ month_snapshot_day('am.month') }} as snapshot_day,
        cast(coalesce(sum(r.mrr), 0) as {{ type_mrr() }}) as mrr
    from account_months as am
    left join recurring as r
        on am.account_id = r.account_id
            and r.valid_from <= {{ month_snapshot_day('am.month') }}
            and (r.valid_to is null or r.valid_to > {{ month_snapshot_day('am.month') }})
    group by am.account_id, am.currency, am.month
),

converted as (
    select
        m.*,
        fx.units_per_usd,
        fx.reporting_units_per_usd,
        {{ to_reporting('m.mrr', 'fx', 10, 38) }} as mrr_usd
    from mrr as m
    {{ fx_join('fx', 'm.currency', 'm.snapshot_day') }}
),

mrr_before_window as (
    -- incremental: whether each account had MRR before the window, from this table's row for the
    -- month before it (kept: that month is not recomputed); otherwise no rows
    {%- if changes_apply() %}
        select
            account_id,
            had_mrr_before
        from {{ this }}
        where month = (select {{ add_months(-1, 'ciw.window_start') }} from {{ ref('int_changed_window') }} as ciw)
    {%- else %}
        select
            cast(null as {{ dbt.type_string() }}) as account_id,
            false as had_mrr_before
        where 1 = 0
    {%- endif %}
)

select
    c.account_id,
    c.month,
    c.currency,
    c.snapshot_day,
    c.mrr,
    c.units_per_usd,
    c.reporting_units_per_usd,
    c.mrr_usd,
    cast(coalesce(p.mrr, 0) as {{ type_mrr() }}) as prev_mrr,
    p.mrr_usd as prev_mrr_usd,
    {{ convert_at('coalesce(p.mrr, 0)', 'c.units_per_usd', 'c.reporting_units_per_usd') }} as prev_mrr_usd_at_month_rate,
    coalesce(max(case when p.mrr > 0 then 1 else 0 end) over (
        partition by c.account_id order by c.month rows between unbounded preceding and current row
    ) = 1, false) or coalesce(h.had_mrr_before, false) as had_mrr_before
from converted as c
left join converted as p
    on c.account_id = p.account_id and p.month = {{ add_months(-1, 'c.month') }}
left join mrr_before_window as h on c.account_id = h.account_id
where {{ changed_scope('c.account_id', 'c.month') }}
