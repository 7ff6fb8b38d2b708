-- rule: R7 gross margin by family (R7 decision 14). With product_family 'all', a segment's row (one
-- region or region 'all') is the sum of its accounts in account_margin_monthly: revenue, each COGS
-- component and gross margin to the cent, and active_accounts is the number of its account-months.
-- The family rows of a cell add up to its 'all' row (the family split loses no cent), and the cell's
-- accounts are counted once however many families they bought.
with accounts as (
    select
        month,
        segment,
        case when grouping(region) = 1 then 'all' else region end as region,
        sum(revenue_usd) as revenue_usd,
        sum(cogs_vendor_usd) as cogs_vendor_usd,
        sum(cogs_support_usd) as cogs_support_usd,
        sum(cogs_implementation_usd) as cogs_implementation_usd,
        sum(gross_margin_usd) as gross_margin_usd,
        count(*) as active_accounts
    from {{ ref('account_margin_monthly') }}
    group by grouping sets ((month, segment, region), (month, segment))
),

cube_segments as (
    select *
    from {{ ref('gross_margin_monthly') }}
    where product_family = 'all' and segment not in ('all', '(unallocated)')
),

families as (
    select
        month,
        segment,
        region,
        sum(revenue_usd) as revenue_usd,
        sum(cogs_usd) as cogs_usd,
        max(active_accounts) as max_family_accounts
    from {{ ref('gross_margin_monthly') }}
    where product_family <> 'all'
    group by month, segment, region
)

select
    coalesce(a.month, g.month) as month,
    coalesce(a.segment, g.segment) as segment,
    coalesce(a.region, g.region) as region,
    'segment row differs from account_margin_monthly' as failure
from accounts as a
full outer join cube_segments as g
    on a.month = g.month and a.segment = g.segment and a.region = g.region
where a.month is null or g.month is null
    or a.revenue_usd <> g.revenue_usd
    or a.cogs_vendor_usd <> g.cogs_vendor_usd
    or a.cogs_support_usd <> g.cogs_support_usd
    or a.cogs_implementation_usd <> g.cogs_implementation_usd
    or a.gross_margin_usd <> g.gross_margin_usd
    or a.active_accounts <> g.active_accounts
union all
select
    f.month,
    f.segment,
    f.region,
    'family rows do not add up to the all row' as failure
from families as f
inner join {{ ref('gross_margin_monthly') }} as g
    on f.month = g.month and f.segment = g.segment and f.region = g.region and g.product_family = 'all'
where f.revenue_usd <> g.revenue_usd
    or f.cogs_usd <> g.cogs_usd
    or f.max_family_accounts > g.active_accounts
