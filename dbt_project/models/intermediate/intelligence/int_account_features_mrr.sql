-- rule: M1 renewal risk, MRR trend. The observations: one row per account and month M in which
-- the account has MRR > 0 on M's snapshot day (fct_mrr_monthly, R5: the month's last day, the as-of
-- date in the as-of month); observed_at = that day. Features known then: MRR (reporting currency)
-- now, 3 and 6 months earlier (0 when the account had none or did not exist yet), months since its
-- first month with MRR.
with mrr as (
    select
        account_id,
        month,
        mrr_usd,
        arr_usd
    from {{ ref('fct_mrr_monthly') }}
),

first_months as (
    select
        account_id,
        min(month) as first_month
    from mrr
    where mrr_usd > 0
    group by account_id
)

select
    m.account_id,
    m.month,
    {{ month_snapshot_day('m.month') }} as observed_at,
    cast(m.mrr_usd as decimal(18, 2)) as mrr_usd,
    cast(m.arr_usd as decimal(18, 2)) as arr_usd,
    cast(coalesce(m3.mrr_usd, 0) as decimal(18, 2)) as mrr_usd_3m_ago,
    cast(coalesce(m6.mrr_usd, 0) as decimal(18, 2)) as mrr_usd_6m_ago,
    {{ months_between('f.first_month', 'm.month') }} as tenure_months
from mrr as m
inner join first_months as f on m.account_id = f.account_id
left join mrr as m3 on m.account_id = m3.account_id and m3.month = {{ add_months(-3, 'm.month') }}
left join mrr as m6 on m.account_id = m6.account_id and m6.month = {{ add_months(-6, 'm.month') }}
where m.mrr_usd > 0
