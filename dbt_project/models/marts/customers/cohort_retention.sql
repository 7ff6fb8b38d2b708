-- rule: R6. Cohort (month of first MRR > 0) × months since start: active logos, MRR, logo retention
-- (active / cohort size) and MRR retention (MRR now / the cohort's starting MRR, both at the month's rate).
with rows_in_cohort as (
    select *
    from {{ ref('int_retention_accounts_compared') }}
    where cohort_month is not null and month >= cohort_month
),

grouped as (
    select
        cohort_month,
        month,
        {{ months_between('cohort_month', 'month') }} as months_since_start,
        count(*) as cohort_accounts,
        sum(case when mrr > 0 then 1 else 0 end) as active_accounts,
        sum(mrr_usd) as mrr_usd,
        sum(cohort_start_mrr_usd_at_month_rate) as start_mrr_usd
    from rows_in_cohort
    group by cohort_month, month
)

select
    cast(cohort_month as date) as cohort_month,
    cast(months_since_start as {{ dbt.type_int() }}) as months_since_start,
    cast(month as date) as month,
    cast(cohort_accounts as {{ dbt.type_bigint() }}) as cohort_accounts,
    cast(active_accounts as {{ dbt.type_bigint() }}) as active_accounts,
    cast(mrr_usd as {{ type_mrr() }}) as mrr_usd,
    cast({{ div_round('active_accounts', 'cohort_accounts', 6) }} as decimal(18, 6)) as logo_retention,
    cast(case when start_mrr_usd > 0 then {{ div_round('mrr_usd', 'start_mrr_usd', 6) }} end as decimal(18, 6)) as mrr_retention
from grouped
