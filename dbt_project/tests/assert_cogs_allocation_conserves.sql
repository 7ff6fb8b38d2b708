-- rule: R7 COGS allocation. Per month, allocated + unallocated vendor COGS = the month shares of the
-- cogs bills, in the reporting currency, exactly (bill-months without an FX rate on neither side);
-- and the reconciliation mart agrees with both.
with bills as (
    select
        month,
        sum(cogs_usd) as bills_cogs_usd
    from {{ ref('int_vendor_costs_spread') }}
    where cogs_usd is not null
    group by month
),

allocated as (
    select
        month,
        sum(cogs_usd) as allocated_cogs_usd
    from {{ ref('int_vendor_costs_allocated') }}
    group by month
),

compared as (
    select
        coalesce(b.month, a.month) as month,
        coalesce(b.bills_cogs_usd, 0) as bills_cogs_usd,
        coalesce(a.allocated_cogs_usd, 0) as allocated_cogs_usd
    from bills as b
    full outer join allocated as a on b.month = a.month
)

select
    c.month,
    'allocated + unallocated differs from the bills' as failure
from compared as c
where c.bills_cogs_usd <> c.allocated_cogs_usd
union all
select
    r.month,
    'reconciliation mart does not add up' as failure
from {{ ref('cogs_reconciliation_monthly') }} as r
left join compared as c on r.month = c.month
where r.allocated_cogs_usd + r.unallocated_cogs_usd <> r.bills_cogs_usd
    or r.bills_cogs_usd <> coalesce(c.bills_cogs_usd, 0)
