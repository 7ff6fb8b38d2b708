-- rule: R5. Every month: opening + new + reactivation + expansion + contraction + churn + fx = closing,
-- exactly (to the 10th decimal the MRR is stored at), and each opening is the previous closing.
select b.*
from {{ ref('mrr_bridge_monthly') }} as b
left join {{ ref('mrr_bridge_monthly') }} as p on p.month = {{ add_months(-1, 'b.month') }}
where b.opening_mrr_usd + b.new_usd + b.reactivation_usd + b.expansion_usd + b.contraction_usd
    + b.churn_usd + b.fx_usd <> b.closing_mrr_usd
    or (p.month is not null and p.closing_mrr_usd <> b.opening_mrr_usd)
