-- rule: M1 renewal risk, MRR movements. Per observation (int_account_features_mrr): how many
-- months of the last six (M−5 … M) had an expansion, and how many a contraction (fct_mrr_movements,
-- R5).
with movements as (
    select distinct
        account_id,
        month,
        movement_type
    from {{ ref('fct_mrr_movements') }}
    where movement_type in ('expansion', 'contraction')
)

select
    o.account_id,
    o.month,
    cast(count(case when mv.movement_type = 'expansion' then 1 end) as {{ dbt.type_int() }}) as expansions_6m,
    cast(count(case when mv.movement_type = 'contraction' then 1 end) as {{ dbt.type_int() }}) as contractions_6m
from {{ ref('int_account_features_mrr') }} as o
left join movements as mv
    on o.account_id = mv.account_id
        and mv.month > {{ add_months(-6, 'o.month') }}
        and mv.month <= o.month
group by o.account_id, o.month
