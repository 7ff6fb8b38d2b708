-- rule: R5. fct_mrr_by_plan_monthly summed over plans = fct_mrr_monthly per account and month,
-- exactly, in the account currency and in the reporting currency (NULL where the rate is missing),
-- and no plan row outside fct_mrr_monthly's account-months.
with by_plan as (
    select
        account_id,
        month,
        sum(mrr) as mrr,
        sum(mrr_usd) as mrr_usd,
        max(case when mrr_usd is null then 1 else 0 end) as has_missing_rate
    from {{ ref('fct_mrr_by_plan_monthly') }}
    group by account_id, month
)

select
    coalesce(m.account_id, p.account_id) as account_id,
    coalesce(m.month, p.month) as month,
    m.mrr,
    p.mrr as by_plan_mrr,
    m.mrr_usd,
    p.mrr_usd as by_plan_mrr_usd
from {{ ref('fct_mrr_monthly') }} as m
full outer join by_plan as p on m.account_id = p.account_id and m.month = p.month
where m.account_id is null
    or m.mrr <> coalesce(p.mrr, 0)
    or (m.mrr_usd is null and p.has_missing_rate = 0)
    or (m.mrr_usd is not null and coalesce(p.has_missing_rate, 0) = 1)
    or m.mrr_usd <> coalesce(p.mrr_usd, 0)
