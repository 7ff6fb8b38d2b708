-- rules: R4 R5 R8. kpi_monthly repeats, never recomputes: its MRR is the bridge's closing, its
-- deferred revenue the waterfall's closing, its AR collections_monthly's, its revenue the schedule's.
with revenue as (
    select
        month,
        sum(recognized_usd) as revenue_usd
    from {{ ref('fct_revenue_schedule') }}
    group by month
)

select k.month
from {{ ref('kpi_monthly') }} as k
left join {{ ref('mrr_bridge_monthly') }} as b on k.month = b.month
left join {{ ref('deferred_revenue_monthly') }} as d on k.month = d.month
left join {{ ref('collections_monthly') }} as c on k.month = c.month
left join revenue as r on k.month = r.month
where k.mrr_usd <> coalesce(b.closing_mrr_usd, 0)
    or k.arr_usd <> 12 * k.mrr_usd
    or k.deferred_revenue_usd <> coalesce(d.closing_usd, 0)
    or k.ar_usd <> coalesce(c.ar_usd, 0)
    or k.revenue_usd <> coalesce(r.revenue_usd, 0)
    or k.gross_margin_usd <> k.revenue_usd - k.cogs_usd
