-- rule: R7 gross margin. One row per account and month (up to the as-of month) with revenue or any
-- cost: revenue (R4 recognized, credits included, month's rate), COGS = allocated vendor COGS +
-- support cost + implementation cost, gross margin = revenue − COGS, margin % = GM / revenue as a
-- fraction (NULL when revenue is 0). All in the reporting currency; revenue and vendor COGS without
-- an FX rate are left out of the sums (revenue_missing_fx_rows counts the revenue rows concerned).
with revenue as (
    select
        account_id,
        month,
        sum(revenue_usd) as revenue_usd,
        sum(missing_fx_rows) as revenue_missing_fx_rows
    from {{ ref('int_account_revenue_monthly') }}
    group by account_id, month
),

vendor as (
    select
        account_id,
        month,
        sum(cogs_usd) as cogs_vendor_usd
    from {{ ref('int_vendor_costs_allocated') }}
    where account_id is not null
    group by account_id, month
),

support as (
    select
        account_id,
        month,
        support_cost_usd as cogs_support_usd
    from {{ ref('int_support_costs_monthly') }}
),

implementation as (
    select
        account_id,
        month,
        sum(cost_share_usd) as cogs_implementation_usd
    from {{ ref('int_implementation_costs_spread') }}
    group by account_id, month
),

account_months as (
    select
        account_id,
        month
    from revenue
    union
    select
        account_id,
        month
    from vendor
    union
    select
        account_id,
        month
    from support
    union
    select
        account_id,
        month
    from implementation
),

combined as (
    select
        k.account_id,
        k.month,
        coalesce(r.revenue_usd, 0) as revenue_usd,
        coalesce(r.revenue_missing_fx_rows, 0) as revenue_missing_fx_rows,
        coalesce(v.cogs_vendor_usd, 0) as cogs_vendor_usd,
        coalesce(s.cogs_support_usd, 0) as cogs_support_usd,
        coalesce(i.cogs_implementation_usd, 0) as cogs_implementation_usd
    from account_months as k
    left join revenue as r on k.account_id = r.account_id and k.month = r.month
    left join vendor as v on k.account_id = v.account_id and k.month = v.month
    left join support as s on k.account_id = s.account_id and k.month = s.month
    left join implementation as i on k.account_id = i.account_id and k.month = i.month
    where k.month <= {{ month_start(as_of_date()) }}
),

margins as (
    select
        *,
        cogs_vendor_usd + cogs_support_usd + cogs_implementation_usd as cogs_usd,
        revenue_usd - (cogs_vendor_usd + cogs_support_usd + cogs_implementation_usd) as gross_margin_usd
    from combined
)

select
    cast(m.account_id as {{ dbt.type_string() }}) as account_id,
    cast(m.month as date) as month,
    cast(a.segment as {{ dbt.type_string() }}) as segment,
    cast(a.region as {{ dbt.type_string() }}) as region,
    cast(a.cohort_month as date) as cohort_month,
    cast(m.revenue_usd as decimal(18, 2)) as revenue_usd,
    cast(m.cogs_vendor_usd as decimal(18, 2)) as cogs_vendor_usd,
    cast(m.cogs_support_usd as decimal(18, 2)) as cogs_support_usd,
    cast(m.cogs_implementation_usd as decimal(18, 2)) as cogs_implementation_usd,
    cast(m.cogs_usd as decimal(18, 2)) as cogs_usd,
    cast(m.gross_margin_usd as decimal(18, 2)) as gross_margin_usd,
    cast(
        case when m.revenue_usd <> 0 then {{ div_round('m.gross_margin_usd', 'm.revenue_usd', 6) }} end
        as decimal(18, 6)
    ) as gross_margin_pct,
    cast(m.revenue_missing_fx_rows as {{ dbt.type_bigint() }}) as revenue_missing_fx_rows
from margins as m
left join {{ ref('dim_accounts') }} as a on m.account_id = a.account_id
