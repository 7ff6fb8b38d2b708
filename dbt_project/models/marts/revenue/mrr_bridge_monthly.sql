-- rule: R5. opening (MRR of M−1 at M−1's rate) + movements + fx = closing (MRR of M at M's rate).
-- Churn and reactivation are also split by cause (fct_mrr_movements.movement_cause): the split
-- columns add up to churn_usd and reactivation_usd exactly and are not further terms of the bridge.
with mrr as (
    select
        month,
        sum(mrr_usd) as mrr_usd
    from {{ ref('int_mrr_account_monthly') }}
    group by month
),

movements as (
    select
        month,
        sum(case when movement_type = 'new' then amount_usd else 0 end) as new_usd,
        sum(case when movement_type = 'reactivation' then amount_usd else 0 end) as reactivation_usd,
        sum(case when movement_type = 'expansion' then amount_usd else 0 end) as expansion_usd,
        sum(case when movement_type = 'contraction' then amount_usd else 0 end) as contraction_usd,
        sum(case when movement_type = 'churn' then amount_usd else 0 end) as churn_usd,
        sum(case when movement_type = 'fx' then amount_usd else 0 end) as fx_usd,
        sum(case when movement_type = 'churn' and movement_cause = 'cancel' then amount_usd else 0 end)
            as churn_cancelled_usd,
        sum(case when movement_type = 'churn' and movement_cause = 'pause' then amount_usd else 0 end)
            as churn_paused_usd,
        sum(case when movement_type = 'churn' and movement_cause = 'downgrade_to_zero' then amount_usd else 0 end)
            as churn_downgraded_to_zero_usd,
        sum(case when movement_type = 'reactivation' and movement_cause = 'resume' then amount_usd else 0 end)
            as reactivation_resumed_usd,
        sum(case when movement_type = 'reactivation' and movement_cause = 'reactivation' then amount_usd else 0 end)
            as reactivation_other_usd
    from {{ ref('int_mrr_movements_classified') }}
    group by month
)

select
    cast(m.month as date) as month,
    cast(coalesce(p.mrr_usd, 0) as {{ type_mrr() }}) as opening_mrr_usd,
    cast(coalesce(mv.new_usd, 0) as {{ type_mrr() }}) as new_usd,
    cast(coalesce(mv.reactivation_usd, 0) as {{ type_mrr() }}) as reactivation_usd,
    cast(coalesce(mv.expansion_usd, 0) as {{ type_mrr() }}) as expansion_usd,
    cast(coalesce(mv.contraction_usd, 0) as {{ type_mrr() }}) as contraction_usd,
    cast(coalesce(mv.churn_usd, 0) as {{ type_mrr() }}) as churn_usd,
    cast(coalesce(mv.fx_usd, 0) as {{ type_mrr() }}) as fx_usd,
    cast(coalesce(m.mrr_usd, 0) as {{ type_mrr() }}) as closing_mrr_usd,
    cast(coalesce(mv.churn_cancelled_usd, 0) as {{ type_mrr() }}) as churn_cancelled_usd,
    cast(coalesce(mv.churn_paused_usd, 0) as {{ type_mrr() }}) as churn_paused_usd,
    cast(coalesce(mv.churn_downgraded_to_zero_usd, 0) as {{ type_mrr() }}) as churn_downgraded_to_zero_usd,
    cast(coalesce(mv.reactivation_resumed_usd, 0) as {{ type_mrr() }}) as reactivation_resumed_usd,
    cast(coalesce(mv.reactivation_other_usd, 0) as {{ type_mrr() }}) as reactivation_other_usd
from mrr as m
left join mrr as p on p.month = {{ add_months(-1, 'm.month') }}
left join movements as mv on m.month = mv.month
