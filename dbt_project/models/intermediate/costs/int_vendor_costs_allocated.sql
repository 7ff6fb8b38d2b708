-- rule: R7 COGS allocation. Each bill-month share of vendor COGS (reporting currency) goes to accounts:
-- * with account_id → that account (direct), whatever its revenue;
-- * with product_family only → accounts by their share of that family's revenue in M
--   (family_revenue_share);
-- * with neither → accounts by their share of all revenue in M (total_revenue_share).
-- Shares are pooled per (month, family-or-null, method) first, then allocated exactly to the cent:
-- recipients ordered by account_id, each gets round(P·cum_w/W) − round(P·prev_cum_w/W), so the
-- parts add up to the pool P exactly. Weights: only accounts with positive revenue in the scope and
-- month (an account whose credits exceed its revenue gets no share, never a negative one). A pool
-- whose scope has no positive revenue in M stays unallocated (account_id NULL, method unallocated,
-- reason no_family_revenue or no_revenue), reported, not dropped. Bill-months without an FX rate
-- (cogs_usd NULL) are left out here and reported as missing FX in the reconciliation.
with shares as (
    select
        month,
        account_id,
        product_family,
        cogs_usd,
        case
            when account_id is not null then 'direct'
            when product_family is not null then 'family_revenue_share'
            else 'total_revenue_share'
        end as pool_method
    from {{ ref('int_vendor_costs_spread') }}
    where cogs_usd is not null
),

direct as (
    select
        month,
        account_id,
        product_family,
        'direct' as allocation_method,
        cast(null as {{ dbt.type_string() }}) as unallocated_reason,
        cast(sum(cogs_usd) as decimal(18, 2)) as cogs_usd
    from shares
    where pool_method = 'direct'
    group by month, account_id, product_family
),

pools as (
    select
        month,
        product_family,
        pool_method,
        cast(sum(cogs_usd) as decimal(18, 2)) as pool_usd
    from shares
    where pool_method <> 'direct'
    group by month, product_family, pool_method
),

family_weights as (
    select
        month,
        product_family,
        account_id,
        sum(revenue_usd) as weight
    from {{ ref('int_account_revenue_monthly') }}
    where product_family is not null
    group by month, product_family, account_id
    having sum(revenue_usd) > 0
),

total_weights as (
    select
        month,
        account_id,
        sum(revenue_usd) as weight
    from {{ ref('int_account_revenue_monthly') }}
    group by month, account_id
    having sum(revenue_usd) > 0
),

recipients as (
    select
        p.month,
        p.product_family,
        p.pool_method,
        p.pool_usd,
        w.account_id,
        cast(w.weight as decimal(18, 2)) as weight
    from pools as p
    inner join family_weights as w
        on p.month = w.month and p.product_family = w.product_family
    where p.pool_method = 'family_revenue_share'
    union all
    select
        p.month,
        p.product_family,
        p.pool_method,
        p.pool_usd,
        w.account_id,
        cast(w.weight as decimal(18, 2)) as weight
    from pools as p
    inner join total_weights as w on p.month = w.month
    where p.pool_method = 'total_revenue_share'
),

cumulated as (
    select
        *,
        sum(weight) over (
            partition by month, pool_method, product_family
            order by account_id
            rows between unbounded preceding and current row
        ) as cum_weight,
        sum(weight) over (partition by month, pool_method, product_family) as total_weight
    from recipients
),

allocated as (
    select
        month,
        account_id,
        product_family,
        pool_method as allocation_method,
        cast(null as {{ dbt.type_string() }}) as unallocated_reason,
        cast(
            {{ div_round(mul_money('pool_usd', 'cum_weight'), 'total_weight', 2) }}
            - {{ div_round(mul_money('pool_usd', 'cum_weight - weight'), 'total_weight', 2) }}
            as decimal(18, 2)
        ) as cogs_usd
    from cumulated
),

unallocated as (
    select
        p.month,
        cast(null as {{ dbt.type_string() }}) as account_id,
        p.product_family,
        'unallocated' as allocation_method,
        case when p.pool_method = 'family_revenue_share' then 'no_family_revenue' else 'no_revenue' end
            as unallocated_reason,
        p.pool_usd as cogs_usd
    from pools as p
    where not exists (
            select 1
            from recipients as r
            where r.month = p.month and r.pool_method = p.pool_method
                and coalesce(r.product_family, '') = coalesce(p.product_family, '')
        )
)

select * from direct
union all
select * from allocated
union all
select * from unallocated
