-- rules: all (R4–R10). One row per month with every executive KPI, read from the marts that own
-- each number (nothing is recomputed here except ratios of their sums), so every tile ties out:
-- mrr_usd = mrr_bridge_monthly.closing_mrr_usd, deferred_revenue_usd = deferred_revenue_monthly.closing_usd,
-- ar_usd = collections_monthly.ar_usd, revenue_usd = Σ fct_revenue_schedule.recognized_usd (at the
-- month's rate; deferred_revenue_monthly carries the same revenue_usd, reached from its historical-rate
-- recognized_usd by its fx_translation_usd line). Churn and reactivation are also shown by cause.
-- Company gross margin counts every COGS dollar, the unallocated pools too (a cost with no revenue
-- to carry it is still a cost of the month). Months: every month any of these marts has, up to the as-of
-- month; a month with costs but no revenue yet (a vendor billed before the first customer) is a row.
with bridge as (
    select
        month,
        closing_mrr_usd,
        new_usd,
        reactivation_usd,
        expansion_usd,
        contraction_usd,
        churn_usd,
        fx_usd,
        churn_cancelled_usd,
        churn_paused_usd,
        churn_downgraded_to_zero_usd,
        reactivation_resumed_usd,
        reactivation_other_usd
    from {{ ref('mrr_bridge_monthly') }}
),

retention as (
    select
        month,
        active_accounts,
        churned_accounts,
        logo_churn_rate,
        nrr_t12,
        grr_t12
    from {{ ref('retention_monthly') }}
),

revenue as (
    select
        month,
        sum(recognized_usd) as revenue_usd
    from {{ ref('fct_revenue_schedule') }}
    group by month
),

account_costs as (
    select
        month,
        sum(cogs_usd) as cogs_usd
    from {{ ref('account_margin_monthly') }}
    group by month
),

costs as (
    select
        coalesce(a.month, u.month) as month,
        coalesce(a.cogs_usd, 0) + coalesce(u.unallocated_cogs_usd, 0) as cogs_usd,
        coalesce(u.is_complete, true) as cogs_is_complete
    from account_costs as a
    full outer join {{ ref('cogs_reconciliation_monthly') }} as u on a.month = u.month
),

deferred as (
    select
        month,
        closing_usd,
        billings_usd
    from {{ ref('deferred_revenue_monthly') }}
),

collections as (
    select
        month,
        billings_usd,
        collected_usd,
        ar_usd,
        dso_days,
        failed_payment_rate
    from {{ ref('collections_monthly') }}
),

bookings as (
    select
        month,
        bookings_usd
    from {{ ref('bookings_monthly') }}
),

onboarding as (
    select
        month,
        onboarding_days_p50,
        backlog,
        overdue
    from {{ ref('onboarding_monthly') }}
),

support as (
    select
        month,
        tickets,
        sla_met_rate,
        csat_avg
    from {{ ref('support_monthly') }}
),

leakage as (
    select
        month,
        exceptions,
        leakage_usd
    from {{ ref('billing_leakage_monthly') }}
),

months as (
    select month from bridge
    union
    select month from revenue
    union
    select month from collections
    union
    select month from bookings
    union
    select month from costs
),

joined as (
    select
        m.month,
        b.closing_mrr_usd,
        b.new_usd,
        b.reactivation_usd,
        b.expansion_usd,
        b.contraction_usd,
        b.churn_usd,
        b.fx_usd,
        b.churn_cancelled_usd,
        b.churn_paused_usd,
        b.churn_downgraded_to_zero_usd,
        b.reactivation_resumed_usd,
        b.reactivation_other_usd,
        r.active_accounts,
        r.churned_accounts,
        r.logo_churn_rate,
        r.nrr_t12,
        r.grr_t12,
        coalesce(rv.revenue_usd, 0) as revenue_usd,
        coalesce(c.cogs_usd, 0) as cogs_usd,
        coalesce(c.cogs_is_complete, true) as cogs_is_complete,
        d.closing_usd as deferred_revenue_usd,
        col.billings_usd,
        col.collected_usd,
        col.ar_usd,
        col.dso_days,
        col.failed_payment_rate,
        coalesce(bk.bookings_usd, 0) as bookings_usd,
        o.onboarding_days_p50,
        o.backlog as implementation_backlog,
        o.overdue as implementations_overdue,
        coalesce(s.tickets, 0) as tickets,
        s.sla_met_rate,
        s.csat_avg,
        coalesce(l.exceptions, 0) as billing_exceptions,
        coalesce(l.leakage_usd, 0) as billing_leakage_usd
    from months as m
    left join bridge as b on m.month = b.month
    left join retention as r on m.month = r.month
    left join revenue as rv on m.month = rv.month
    left join costs as c on m.month = c.month
    left join deferred as d on m.month = d.month
    left join collections as col on m.month = col.month
    left join bookings as bk on m.month = bk.month
    left join onboarding as o on m.month = o.month
    left join support as s on m.month = s.month
    left join leakage as l on m.month = l.month
    where m.month <= {{ month_start(as_of_date()) }}
)

select
    cast(month as date) as month,
    cast(coalesce(closing_mrr_usd, 0) as {{ type_mrr() }}) as mrr_usd,
    cast(coalesce(closing_mrr_usd, 0) * 12 as {{ type_mrr() }}) as arr_usd,
    cast(coalesce(new_usd, 0) as {{ type_mrr() }}) as new_mrr_usd,
    cast(coalesce(reactivation_usd, 0) as {{ type_mrr() }}) as reactivation_mrr_usd,
    cast(coalesce(expansion_usd, 0) as {{ type_mrr() }}) as expansion_mrr_usd,
    cast(coalesce(contraction_usd, 0) as {{ type_mrr() }}) as contraction_mrr_usd,
    cast(coalesce(churn_usd, 0) as {{ type_mrr() }}) as churned_mrr_usd,
    cast(coalesce(fx_usd, 0) as {{ type_mrr() }}) as fx_mrr_usd,
    cast(
        coalesce(new_usd, 0) + coalesce(reactivation_usd, 0) + coalesce(expansion_usd, 0)
        + coalesce(contraction_usd, 0) + coalesce(churn_usd, 0) as {{ type_mrr() }}
    ) as net_new_mrr_usd,
    cast(coalesce(active_accounts, 0) as {{ dbt.type_bigint() }}) as active_accounts,
    cast(coalesce(churned_accounts, 0) as {{ dbt.type_bigint() }}) as churned_accounts,
    cast(logo_churn_rate as decimal(18, 6)) as logo_churn_rate,
    cast(nrr_t12 as decimal(18, 6)) as nrr_t12,
    cast(grr_t12 as decimal(18, 6)) as grr_t12,
    cast(revenue_usd as decimal(18, 2)) as revenue_usd,
    cast(cogs_usd as decimal(18, 2)) as cogs_usd,
    cast(revenue_usd - cogs_usd as decimal(18, 2)) as gross_margin_usd,
    cast(
        case when revenue_usd <> 0 then {{ div_round('revenue_usd - cogs_usd', 'revenue_usd', 6) }} end
        as decimal(18, 6)
    ) as gross_margin_pct,
    cast(cogs_is_complete as boolean) as cogs_is_complete,
    cast(coalesce(deferred_revenue_usd, 0) as decimal(18, 2)) as deferred_revenue_usd,
    cast(coalesce(billings_usd, 0) as decimal(18, 2)) as billings_usd,
    cast(coalesce(collected_usd, 0) as decimal(18, 2)) as collected_usd,
    cast(coalesce(ar_usd, 0) as decimal(18, 2)) as ar_usd,
    cast(dso_days as decimal(18, 2)) as dso_days,
    cast(failed_payment_rate as decimal(18, 6)) as failed_payment_rate,
    cast(bookings_usd as decimal(18, 2)) as bookings_usd,
    cast(onboarding_days_p50 as decimal(18, 2)) as onboarding_days_p50,
    cast(implementation_backlog as {{ dbt.type_bigint() }}) as implementation_backlog,
    cast(implementations_overdue as {{ dbt.type_bigint() }}) as implementations_overdue,
    cast(tickets as {{ dbt.type_bigint() }}) as tickets,
    cast(sla_met_rate as decimal(18, 6)) as sla_met_rate,
    cast(csat_avg as decimal(18, 2)) as csat_avg,
    cast(billing_exceptions as {{ dbt.type_bigint() }}) as billing_exceptions,
    cast(billing_leakage_usd as decimal(18, 2)) as billing_leakage_usd,
    cast(coalesce(churn_cancelled_usd, 0) as {{ type_mrr() }}) as churned_mrr_cancelled_usd,
    cast(coalesce(churn_paused_usd, 0) as {{ type_mrr() }}) as churned_mrr_paused_usd,
    cast(coalesce(churn_downgraded_to_zero_usd, 0) as {{ type_mrr() }}) as churned_mrr_downgraded_to_zero_usd,
    cast(coalesce(reactivation_resumed_usd, 0) as {{ type_mrr() }}) as reactivation_mrr_resumed_usd,
    cast(coalesce(reactivation_other_usd, 0) as {{ type_mrr() }}) as reactivation_mrr_other_usd
from joined
