-- rules: R5 R6. One row per account: attributes, cohort (first month with MRR > 0), current MRR
-- (the as-of month) and status: active (MRR > 0 now), churned (had MRR, now 0), never_paid.
with mrr as (
    select
        account_id,
        min(case when mrr > 0 then month end) as cohort_month,
        max(case when month = {{ month_start(as_of_date()) }} then mrr_usd end) as current_mrr_usd,
        max(case when month = {{ month_start(as_of_date()) }} then mrr end) as current_mrr
    from {{ ref('int_mrr_account_monthly') }}
    group by account_id
)

select
    cast(a.account_id as {{ dbt.type_string() }}) as account_id,
    cast(a.account_name as {{ dbt.type_string() }}) as account_name,
    cast(a.segment as {{ dbt.type_string() }}) as segment,
    cast(a.industry as {{ dbt.type_string() }}) as industry,
    cast(a.region as {{ dbt.type_string() }}) as region,
    cast(a.country as {{ dbt.type_string() }}) as country,
    cast(a.currency as {{ dbt.type_string() }}) as currency,
    cast(a.parent_account_id as {{ dbt.type_string() }}) as parent_account_id,
    cast(m.cohort_month as date) as cohort_month,
    cast(
        case
            when coalesce(m.current_mrr, 0) > 0 then 'active'
            when m.cohort_month is not null then 'churned'
            else 'never_paid'
        end as {{ dbt.type_string() }}
    ) as status,
    cast(coalesce(m.current_mrr, 0) as {{ type_mrr() }}) as current_mrr,
    cast(
        case when coalesce(m.current_mrr, 0) = 0 then 0 else m.current_mrr_usd end as {{ type_mrr() }}
    ) as current_mrr_usd,
    cast(a.created_at as {{ dbt.type_timestamp() }}) as created_at,
    cast(a.is_deleted as boolean) as is_deleted
from {{ ref('stg_crm__accounts') }} as a
left join mrr as m on a.account_id = m.account_id
