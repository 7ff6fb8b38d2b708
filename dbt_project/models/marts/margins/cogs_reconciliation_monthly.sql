-- rule: R7 COGS allocation. One row per month with vendor COGS: the month shares of the cogs bills
-- (reporting currency, R1 exact split), how they were allocated (direct, by family revenue share, by
-- total revenue share) and what stayed unallocated because the scope had no positive revenue in the
-- month (no_family_revenue: a family bill; no_revenue: a bill with neither account nor family).
-- bills_cogs_usd = allocated_cogs_usd + unallocated_cogs_usd exactly; bill-months without an FX rate
-- are on neither side and counted in missing_fx_bills. is_complete: every recurring COGS vendor has
-- billed the month (vendors bill in arrears, so the latest months are provisional until they do).
with bills as (
    select
        month,
        sum(cogs_usd) as bills_cogs_usd,
        count(distinct case when is_missing_fx_rate then bill_id end) as missing_fx_bills
    from {{ ref('int_vendor_costs_spread') }}
    group by month
),

allocated as (
    select
        month,
        sum(case when allocation_method = 'direct' then cogs_usd else 0 end) as direct_cogs_usd,
        sum(case when allocation_method = 'family_revenue_share' then cogs_usd else 0 end)
            as family_share_cogs_usd,
        sum(case when allocation_method = 'total_revenue_share' then cogs_usd else 0 end)
            as total_share_cogs_usd,
        sum(case when unallocated_reason = 'no_family_revenue' then cogs_usd else 0 end)
            as unallocated_no_family_revenue_usd,
        sum(case when unallocated_reason = 'no_revenue' then cogs_usd else 0 end)
            as unallocated_no_revenue_usd
    from {{ ref('int_vendor_costs_allocated') }}
    group by month
)

select
    cast(v.month as date) as month,
    cast(coalesce(b.bills_cogs_usd, 0) as decimal(18, 2)) as bills_cogs_usd,
    cast(coalesce(a.direct_cogs_usd, 0) as decimal(18, 2)) as direct_cogs_usd,
    cast(coalesce(a.family_share_cogs_usd, 0) as decimal(18, 2)) as family_share_cogs_usd,
    cast(coalesce(a.total_share_cogs_usd, 0) as decimal(18, 2)) as total_share_cogs_usd,
    cast(
        coalesce(a.direct_cogs_usd, 0) + coalesce(a.family_share_cogs_usd, 0) + coalesce(a.total_share_cogs_usd, 0)
        as decimal(18, 2)
    ) as allocated_cogs_usd,
    cast(coalesce(a.unallocated_no_family_revenue_usd, 0) as decimal(18, 2)) as unallocated_no_family_revenue_usd,
    cast(coalesce(a.unallocated_no_revenue_usd, 0) as decimal(18, 2)) as unallocated_no_revenue_usd,
    cast(
        coalesce(a.unallocated_no_family_revenue_usd, 0) + coalesce(a.unallocated_no_revenue_usd, 0)
        as decimal(18, 2)
    ) as unallocated_cogs_usd,
    cast(coalesce(b.missing_fx_bills, 0) as {{ dbt.type_bigint() }}) as missing_fx_bills,
    cast(coalesce(v.vendors_not_yet_billed, 0) as {{ dbt.type_bigint() }}) as vendors_not_yet_billed,
    cast(coalesce(v.vendors_not_yet_billed, 0) = 0 as boolean) as is_complete
from {{ ref('int_vendor_cost_coverage_checked') }} as v
left join bills as b on v.month = b.month
left join allocated as a on v.month = a.month
