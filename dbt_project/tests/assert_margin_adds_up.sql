-- rule: R7 gross margin. Per account-month: cogs = vendor + support + implementation and gross
-- margin = revenue − cogs; totals match the sources (vendor COGS allocated to accounts, support and
-- implementation costs, revenue) month by month.
with totals as (
    select
        month,
        sum(revenue_usd) as revenue_usd,
        sum(cogs_vendor_usd) as cogs_vendor_usd,
        sum(cogs_support_usd) as cogs_support_usd,
        sum(cogs_implementation_usd) as cogs_implementation_usd
    from {{ ref('account_margin_monthly') }}
    group by month
),

sources as (
    select
        month,
        sum(revenue_usd) as revenue_usd,
        0 as cogs_vendor_usd,
        0 as cogs_support_usd,
        0 as cogs_implementation_usd
    from {{ ref('int_account_revenue_monthly') }}
    group by month
    union all
    select
        month,
        0 as revenue_usd,
        sum(cogs_usd) as cogs_vendor_usd,
        0 as cogs_support_usd,
        0 as cogs_implementation_usd
    from {{ ref('int_vendor_costs_allocated') }}
    where account_id is not null
    group by month
    union all
    select
        month,
        0 as revenue_usd,
        0 as cogs_vendor_usd,
        sum(support_cost_usd) as cogs_support_usd,
        0 as cogs_implementation_usd
    from {{ ref('int_support_costs_monthly') }}
    where month <= {{ month_start(as_of_date()) }}
    group by month
    union all
    select
        month,
        0 as revenue_usd,
        0 as cogs_vendor_usd,
        0 as cogs_support_usd,
        sum(cost_share_usd) as cogs_implementation_usd
    from {{ ref('int_implementation_costs_spread') }}
    where month <= {{ month_start(as_of_date()) }}
    group by month
),

source_totals as (
    select
        month,
        sum(revenue_usd) as revenue_usd,
        sum(cogs_vendor_usd) as cogs_vendor_usd,
        sum(cogs_support_usd) as cogs_support_usd,
        sum(cogs_implementation_usd) as cogs_implementation_usd
    from sources
    group by month
)

select
    m.account_id,
    m.month,
    'row does not add up' as failure
from {{ ref('account_margin_monthly') }} as m
where m.cogs_usd <> m.cogs_vendor_usd + m.cogs_support_usd + m.cogs_implementation_usd
    or m.gross_margin_usd <> m.revenue_usd - m.cogs_usd
union all
select
    null as account_id,
    coalesce(t.month, s.month) as month,
    'monthly totals differ from the sources' as failure
from totals as t
full outer join source_totals as s on t.month = s.month
where coalesce(t.revenue_usd, 0) <> coalesce(s.revenue_usd, 0)
    or coalesce(t.cogs_vendor_usd, 0) <> coalesce(s.cogs_vendor_usd, 0)
    or coalesce(t.cogs_support_usd, 0) <> coalesce(s.cogs_support_usd, 0)
    or coalesce(t.cogs_implementation_usd, 0) <> coalesce(s.cogs_implementation_usd, 0)
