-- rule: R10 support-to-renewal. The buckets partition the account-months: their account_months add up
-- to the accounts with MRR > 0 at the end of M−1 (M up to the as-of month), and their churned to the
-- churn movements of those months.
with bucketed as (
    select
        sum(account_months) as account_months,
        sum(churned) as churned
    from {{ ref('support_renewal_risk') }}
),

observed as (
    select count(*) as account_months
    from {{ ref('fct_mrr_monthly') }}
    where mrr > 0 and {{ add_months(1, 'month') }} <= {{ month_start(as_of_date()) }}
),

churns as (
    select count(*) as churned
    from {{ ref('fct_mrr_movements') }}
    where movement_type = 'churn'
)

select
    b.account_months,
    o.account_months as expected_account_months,
    b.churned,
    c.churned as expected_churned
from bucketed as b
cross join observed as o
cross join churns as c
where b.account_months <> o.account_months or b.churned <> c.churned
