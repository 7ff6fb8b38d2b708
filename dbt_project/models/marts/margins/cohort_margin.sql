-- rule: R7 cohort margin (cohort: R6). Cohort (dim_accounts.cohort_month, first month with MRR > 0)
-- × month from the cohort month to the as-of month: active accounts (MRR > 0 in the month, from
-- fct_mrr_monthly), revenue, COGS, gross margin and margin % (NULL when revenue is 0) of the cohort's
-- accounts, from account_margin_monthly. Accounts that never had MRR have no cohort and are left out;
-- a cohort account's revenue and costs before its cohort month (e.g. onboarding work) are in
-- account_margin_monthly but not here.
with cohorts as (
    select
        account_id,
        cohort_month
    from {{ ref('dim_accounts') }}
    where cohort_month is not null
),

spine as (
    select
        c.cohort_month,
        {{ add_months('n.n', 'c.cohort_month') }} as month
    from (select distinct cohort_month from cohorts) as c
    cross join {{ integers(10) }} as n
    where n.n <= {{ months_between('c.cohort_month', month_start(as_of_date())) }}
),

margins as (
    select
        c.cohort_month,
        m.month,
        sum(m.revenue_usd) as revenue_usd,
        sum(m.cogs_usd) as cogs_usd
    from {{ ref('account_margin_monthly') }} as m
    inner join cohorts as c on m.account_id = c.account_id
    where m.month >= c.cohort_month
    group by c.cohort_month, m.month
),

active as (
    select
        c.cohort_month,
        r.month,
        count(*) as active_accounts
    from {{ ref('fct_mrr_monthly') }} as r
    inner join cohorts as c on r.account_id = c.account_id
    where r.mrr > 0 and r.month >= c.cohort_month
    group by c.cohort_month, r.month
),

combined as (
    select
        s.cohort_month,
        s.month,
        coalesce(a.active_accounts, 0) as active_accounts,
        coalesce(m.revenue_usd, 0) as revenue_usd,
        coalesce(m.cogs_usd, 0) as cogs_usd,
        coalesce(m.revenue_usd, 0) - coalesce(m.cogs_usd, 0) as gross_margin_usd
    from spine as s
    left join margins as m on s.cohort_month = m.cohort_month and s.month = m.month
    left join active as a on s.cohort_month = a.cohort_month and s.month = a.month
)

select
    cast(cohort_month as date) as cohort_month,
    cast(month as date) as month,
    cast({{ months_between('cohort_month', 'month') }} as {{ dbt.type_int() }}) as months_since_start,
    cast(active_accounts as {{ dbt.type_bigint() }}) as active_accounts,
    cast(revenue_usd as decimal(18, 2)) as revenue_usd,
    cast(cogs_usd as decimal(18, 2)) as cogs_usd,
    cast(gross_margin_usd as decimal(18, 2)) as gross_margin_usd,
    cast(
        case when revenue_usd <> 0 then {{ div_round('gross_margin_usd', 'revenue_usd', 6) }} end
        as decimal(18, 6)
    ) as gross_margin_pct
from combined
