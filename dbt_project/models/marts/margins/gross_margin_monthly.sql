-- rule: R7 gross margin by segment, region and product family (R7 decision 14). One row per month ×
-- segment × region × product_family, each dimension also 'all' for its rolled-up total (every
-- grouping set of the three, flagged by grouping()). Revenue by its R4 family ('(none)' for credit
-- notes without a single family); account COGS by family from int_account_costs_by_family_allocated;
-- the unallocated vendor pools (R7 decision 7) under segment and region '(unallocated)' and their
-- family, or '(unallocated)' when the pool has none. So the all/all/all row is the company's month
-- (kpi_monthly) and product_family 'all' of a segment is the sum of its account margins.
-- active_accounts is counted distinct within each cell, never summed across cells.
with revenue as (
    select
        account_id,
        month,
        coalesce(product_family, '(none)') as product_family,
        revenue_usd,
        0 as cogs_vendor_usd,
        0 as cogs_support_usd,
        0 as cogs_implementation_usd
    from {{ ref('int_account_revenue_monthly') }}
),

account_costs as (
    select
        account_id,
        month,
        product_family,
        0 as revenue_usd,
        cogs_vendor_usd,
        cogs_support_usd,
        cogs_implementation_usd
    from {{ ref('int_account_costs_by_family_allocated') }}
),

account_facts as (
    select * from revenue
    union all
    select * from account_costs
),

facts as (
    select
        f.month,
        f.account_id,
        a.segment,
        a.region,
        f.product_family,
        f.revenue_usd,
        f.cogs_vendor_usd,
        f.cogs_support_usd,
        f.cogs_implementation_usd
    from account_facts as f
    left join {{ ref('dim_accounts') }} as a on f.account_id = a.account_id
    union all
    select
        month,
        cast(null as {{ dbt.type_string() }}) as account_id,
        '(unallocated)' as segment,
        '(unallocated)' as region,
        coalesce(product_family, '(unallocated)') as product_family,
        0 as revenue_usd,
        cogs_usd as cogs_vendor_usd,
        0 as cogs_support_usd,
        0 as cogs_implementation_usd
    from {{ ref('int_vendor_costs_allocated') }}
    where account_id is null
),

cubed as (
    select
        month,
        case when grouping(segment) = 1 then 'all' else segment end as segment,
        case when grouping(region) = 1 then 'all' else region end as region,
        case when grouping(product_family) = 1 then 'all' else product_family end as product_family,
        sum(revenue_usd) as revenue_usd,
        sum(cogs_vendor_usd) as cogs_vendor_usd,
        sum(cogs_support_usd) as cogs_support_usd,
        sum(cogs_implementation_usd) as cogs_implementation_usd,
        count(distinct account_id) as active_accounts
    from facts
    where month <= {{ month_start(as_of_date()) }}
    group by grouping sets (
        (month, segment, region, product_family),
        (month, region, product_family),
        (month, segment, product_family),
        (month, product_family),
        (month, segment, region),
        (month, region),
        (month, segment),
        (month)
    )
),

margins as (
    select
        *,
        cogs_vendor_usd + cogs_support_usd + cogs_implementation_usd as cogs_usd,
        revenue_usd - (cogs_vendor_usd + cogs_support_usd + cogs_implementation_usd) as gross_margin_usd
    from cubed
)

select
    cast(month as date) as month,
    cast(segment as {{ dbt.type_string() }}) as segment,
    cast(region as {{ dbt.type_string() }}) as region,
    cast(product_family as {{ dbt.type_string() }}) as product_family,
    cast(revenue_usd as decimal(18, 2)) as revenue_usd,
    cast(cogs_vendor_usd as decimal(18, 2)) as cogs_vendor_usd,
    cast(cogs_support_usd as decimal(18, 2)) as cogs_support_usd,
    cast(cogs_implementation_usd as decimal(18, 2)) as cogs_implementation_usd,
    cast(cogs_usd as decimal(18, 2)) as cogs_usd,
    cast(gross_margin_usd as decimal(18, 2)) as gross_margin_usd,
    cast(
        case when revenue_usd <> 0 then {{ div_round('gross_margin_usd', 'revenue_usd', 6) }} end
        as decimal(18, 6)
    ) as gross_margin_pct,
    cast(active_accounts as {{ dbt.type_bigint() }}) as active_accounts
from margins
