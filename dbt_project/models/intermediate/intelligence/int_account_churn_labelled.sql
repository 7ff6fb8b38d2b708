-- rule: M1 renewal risk, the label. Per observation (int_account_features_mrr): churned_next_90d =
-- the account churns (R5: a churn movement in fct_mrr_movements, its MRR goes from > 0 to 0 — cancel,
-- pause or downgrade to zero) at one of the next three month snapshots (M+1, M+2, M+3: "within 90
-- days" on the warehouse's monthly grain). is_label_known = M+3's month-end is on or before the
-- as-of date (its outcome is complete); the as-of month's and the two before are not (scored, not
-- trained on).
with churns as (
    select distinct
        account_id,
        month
    from {{ ref('fct_mrr_movements') }}
    where movement_type = 'churn'
)

select
    o.account_id,
    o.month,
    case when count(c.month) > 0 then 1 else 0 end as churned_next_90d,
    case
        when {{ add_days(-1, add_months(4, 'o.month')) }} <= {{ as_of_date() }} then true
        else false
    end as is_label_known
from {{ ref('int_account_features_mrr') }} as o
left join churns as c
    on o.account_id = c.account_id
        and c.month > o.month
        and c.month <= {{ add_months(3, 'o.month') }}
group by o.account_id, o.month
