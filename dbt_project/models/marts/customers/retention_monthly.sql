-- rule: R6. Logo churn rate = accounts churned in M / accounts with MRR > 0 at end of M−1.
-- Gross MRR churn = (|churn| + |contraction|) / MRR(M−1); net = (|churn| + |contraction| − expansion)
-- / MRR(M−1); NRR/GRR trailing 12 months over accounts with MRR > 0 at end of M−12. All MRR of one
-- ratio at M's rate (constant currency). Rates are fractions (0.7667 = 76.67 %), NULL when the
-- denominator is 0.
with accounts as (
    select
        month,
        sum(case when mrr > 0 then 1 else 0 end) as active_accounts,
        sum(case when prev_mrr > 0 then 1 else 0 end) as prev_active_accounts,
        sum(case when prev_mrr > 0 and mrr = 0 then 1 else 0 end) as churned_accounts,
        sum(prev_mrr_usd_at_month_rate) as prev_mrr_usd,
        sum(case when prev_mrr > 0 and mrr = 0 then prev_mrr_usd_at_month_rate else 0 end) as churn_usd,
        sum(case when mrr > 0 and mrr < prev_mrr then prev_mrr_usd_at_month_rate - mrr_usd else 0 end) as contraction_usd,
        sum(case when prev_mrr > 0 and mrr > prev_mrr then mrr_usd - prev_mrr_usd_at_month_rate else 0 end) as expansion_usd,
        sum(case when mrr_12m_ago > 0 then mrr_12m_ago_usd_at_month_rate else 0 end) as base_12m_usd,
        sum(case when mrr_12m_ago > 0 then mrr_usd else 0 end) as retained_12m_usd,
        sum(
            case
                when mrr_12m_ago > 0 and mrr_usd < mrr_12m_ago_usd_at_month_rate then mrr_usd
                when mrr_12m_ago > 0 then mrr_12m_ago_usd_at_month_rate
                else 0
            end
        ) as gross_retained_12m_usd
    from {{ ref('int_retention_accounts_compared') }}
    group by month
)

select
    cast(month as date) as month,
    cast(active_accounts as {{ dbt.type_bigint() }}) as active_accounts,
    cast(churned_accounts as {{ dbt.type_bigint() }}) as churned_accounts,
    cast(case when prev_active_accounts > 0 then {{ div_round('churned_accounts', 'prev_active_accounts', 6) }} end as decimal(18, 6)) as logo_churn_rate,
    cast(case when prev_mrr_usd > 0 then {{ div_round('churn_usd + contraction_usd', 'prev_mrr_usd', 6) }} end as decimal(18, 6)) as gross_mrr_churn_rate,
    cast(case when prev_mrr_usd > 0 then {{ div_round('churn_usd + contraction_usd - expansion_usd', 'prev_mrr_usd', 6) }} end as decimal(18, 6)) as net_mrr_churn_rate,
    cast(case when base_12m_usd > 0 then {{ div_round('retained_12m_usd', 'base_12m_usd', 6) }} end as decimal(18, 6)) as nrr_t12,
    cast(case when base_12m_usd > 0 then {{ div_round('gross_retained_12m_usd', 'base_12m_usd', 6) }} end as decimal(18, 6)) as grr_t12
from accounts
