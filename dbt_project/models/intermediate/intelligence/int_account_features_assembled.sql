-- rule: M1 renewal risk, one row per observation (account, month with MRR > 0 on its snapshot day):
-- the features of int_account_features_* side by side, with the account's name, segment and region
-- (dim_accounts) and the label (int_account_churn_labelled). The renewal-risk asset reads this table.
select
    m.account_id,
    m.month,
    m.observed_at,
    a.account_name,
    a.segment,
    a.region,
    m.mrr_usd,
    m.arr_usd,
    m.mrr_usd_3m_ago,
    m.mrr_usd_6m_ago,
    m.tenure_months,
    mv.expansions_6m,
    mv.contractions_6m,
    u.seats,
    u.seats_6m_ago,
    u.usage_1m,
    u.usage_prior_3m,
    s.tickets_90d,
    s.tickets_prior_275d,
    s.sla_missed_90d,
    s.rated_tickets_90d,
    s.csat_sum_90d,
    p.failed_payments_90d,
    p.max_days_past_due,
    b.onboarding_delay_days,
    r.renewal_date,
    r.term_months,
    r.days_to_renewal,
    l.churned_next_90d,
    l.is_label_known
from {{ ref('int_account_features_mrr') }} as m
inner join {{ ref('dim_accounts') }} as a on m.account_id = a.account_id
inner join {{ ref('int_account_features_movements') }} as mv on m.account_id = mv.account_id and m.month = mv.month
inner join {{ ref('int_account_features_usage') }} as u on m.account_id = u.account_id and m.month = u.month
inner join {{ ref('int_account_features_support') }} as s on m.account_id = s.account_id and m.month = s.month
inner join {{ ref('int_account_features_payments') }} as p on m.account_id = p.account_id and m.month = p.month
inner join {{ ref('int_account_features_onboarding') }} as b on m.account_id = b.account_id and m.month = b.month
inner join {{ ref('int_account_features_renewal') }} as r on m.account_id = r.account_id and m.month = r.month
inner join {{ ref('int_account_churn_labelled') }} as l on m.account_id = l.account_id and m.month = l.month
