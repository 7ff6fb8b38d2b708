-- rule: R6. Per account and month M: MRR at M, at M−1 and at M−12, all three at M's rate
-- (constant currency, so FX does not show as churn or expansion), and the account's cohort.
with mrr as (
    select *
    from {{ ref('int_mrr_account_monthly') }}
),

cohorts as (
    select
        account_id,
        min(month) as cohort_month
    from mrr
    where mrr > 0
    group by account_id
)

select
    c.account_id,
    c.month,
    co.cohort_month,
    c.mrr,
    c.mrr_usd,
    c.prev_mrr,
    c.prev_mrr_usd_at_month_rate,
    coalesce(y.mrr, 0) as mrr_12m_ago,
    {{ convert_at('coalesce(y.mrr, 0)', 'c.units_per_usd', 'c.reporting_units_per_usd') }} as mrr_12m_ago_usd_at_month_rate,
    s.mrr as cohort_start_mrr,
    {{ convert_at('s.mrr', 'c.units_per_usd', 'c.reporting_units_per_usd') }} as cohort_start_mrr_usd_at_month_rate
from mrr as c
left join cohorts as co on c.account_id = co.account_id
left join mrr as y
    on c.account_id = y.account_id and y.month = {{ add_months(-12, 'c.month') }}
left join mrr as s
    on c.account_id = s.account_id and s.month = co.cohort_month
