-- rule: R7 gross margin by family (R7 decision 14). The all/all/all row of every month is the
-- company's month: revenue, COGS (the unallocated vendor pools included) and gross margin equal
-- kpi_monthly's to the cent; every row adds up (cogs = vendor + support + implementation, gross margin
-- = revenue − cogs). Every month up to the as-of month is in both, a month with cost but no revenue
-- yet (vendor bills before the first customer) included.
with company as (
    select
        month,
        revenue_usd,
        cogs_usd,
        gross_margin_usd,
        gross_margin_pct
    from {{ ref('gross_margin_monthly') }}
    where segment = 'all' and region = 'all' and product_family = 'all'
)

select
    k.month,
    'all/all/all differs from kpi_monthly' as failure
from {{ ref('kpi_monthly') }} as k
left join company as c on k.month = c.month
where k.revenue_usd <> coalesce(c.revenue_usd, 0)
    or k.cogs_usd <> coalesce(c.cogs_usd, 0)
    or k.gross_margin_usd <> coalesce(c.gross_margin_usd, 0)
    or coalesce(k.gross_margin_pct, -999) <> coalesce(c.gross_margin_pct, -999)
union all
select
    c.month,
    'month missing from kpi_monthly' as failure
from company as c
where c.month <= {{ month_start(as_of_date()) }}
    and not exists (
        select 1
        from {{ ref('kpi_monthly') }} as k
        where k.month = c.month
    )
union all
select
    g.month,
    'row does not add up' as failure
from {{ ref('gross_margin_monthly') }} as g
where g.cogs_usd <> g.cogs_vendor_usd + g.cogs_support_usd + g.cogs_implementation_usd
    or g.gross_margin_usd <> g.revenue_usd - g.cogs_usd
