-- rule: R5. MRR in fct_mrr_monthly = Σ MRR of the segments active on the month's last day (the as-of
-- date in the as-of month), per account and month, and no account-month with segment MRR is missing.
with expected as (
    select
        m.account_id,
        m.month,
        coalesce(sum(s.mrr), 0) as mrr
    from {{ ref('fct_mrr_monthly') }} as m
    left join {{ ref('fct_subscription_segments') }} as s
        on m.account_id = s.account_id
            and s.valid_from <= {{ month_snapshot_day('m.month') }}
            and (s.valid_to is null or s.valid_to > {{ month_snapshot_day('m.month') }})
    group by m.account_id, m.month
),

missing as (
    select
        s.account_id,
        min({{ month_start('s.valid_from') }}) as month
    from {{ ref('fct_subscription_segments') }} as s
    where s.mrr > 0
        and not exists (
            select 1 from {{ ref('fct_mrr_monthly') }} as m
            where m.account_id = s.account_id and m.month = {{ month_start('s.valid_from') }}
        )
    group by s.account_id
)

select
    e.account_id,
    e.month,
    'mismatch' as failure
from expected as e
inner join {{ ref('fct_mrr_monthly') }} as m on e.account_id = m.account_id and e.month = m.month
where e.mrr <> m.mrr
union all
select
    account_id,
    month,
    'missing' as failure
from missing
