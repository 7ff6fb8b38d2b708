-- rule: R7 COGS by product family (R7 decision 14). Each account-month's COGS split over the product
-- families it bought, so gross margin can be shown by family:
-- * vendor COGS that names a family (a family pool allocated by family revenue share, or a bill naming
--   the account and a family) stays in that family;
-- * the account's other costs (vendor bills naming the account but no family, its share of the
--   total-revenue pool, support cost, implementation cost) are split over the account's families in
--   proportion to its positive recognized revenue per family in the month, each cost on its own and
--   exact to the cent: families ordered by name, each gets round(C·cum_w/W) − round(C·prev_cum_w/W)
--   (R7 decision 5's method), so the families add up to the account's cost;
-- * an account with no positive family revenue in the month keeps those costs under '(none)'.
-- Revenue is not here: it already carries its family (int_account_revenue_monthly).
with account_costs as (
    select
        account_id,
        month,
        sum(cogs_vendor_usd) as cogs_vendor_usd,
        sum(cogs_support_usd) as cogs_support_usd,
        sum(cogs_implementation_usd) as cogs_implementation_usd
    from (
        select
            account_id,
            month,
            cogs_usd as cogs_vendor_usd,
            0 as cogs_support_usd,
            0 as cogs_implementation_usd
        from {{ ref('int_vendor_costs_allocated') }}
        where account_id is not null and product_family is null
        union all
        select
            account_id,
            month,
            0 as cogs_vendor_usd,
            support_cost_usd as cogs_support_usd,
            0 as cogs_implementation_usd
        from {{ ref('int_support_costs_monthly') }}
        union all
        select
            account_id,
            month,
            0 as cogs_vendor_usd,
            0 as cogs_support_usd,
            cost_share_usd as cogs_implementation_usd
        from {{ ref('int_implementation_costs_spread') }}
    ) as costs
    group by account_id, month
),

weights as (
    select
        account_id,
        month,
        product_family,
        cast(revenue_usd as decimal(18, 2)) as weight
    from {{ ref('int_account_revenue_monthly') }}
    where product_family is not null and revenue_usd > 0
),

cumulated as (
    select
        *,
        sum(weight) over (
            partition by account_id, month
            order by product_family
            rows between unbounded preceding and current row
        ) as cum_weight,
        sum(weight) over (partition by account_id, month) as total_weight
    from weights
),

split as (
    select
        c.account_id,
        c.month,
        w.product_family,
        {{ div_round(mul_money('c.cogs_vendor_usd', 'w.cum_weight'), 'w.total_weight', 2) }}
        - {{ div_round(mul_money('c.cogs_vendor_usd', 'w.cum_weight - w.weight'), 'w.total_weight', 2) }}
            as cogs_vendor_usd,
        {{ div_round(mul_money('c.cogs_support_usd', 'w.cum_weight'), 'w.total_weight', 2) }}
        - {{ div_round(mul_money('c.cogs_support_usd', 'w.cum_weight - w.weight'), 'w.total_weight', 2) }}
            as cogs_support_usd,
        {{ div_round(mul_money('c.cogs_implementation_usd', 'w.cum_weight'), 'w.total_weight', 2) }}
        - {{ div_round(mul_money('c.cogs_implementation_usd', 'w.cum_weight - w.weight'), 'w.total_weight', 2) }}
            as cogs_implementation_usd
    from account_costs as c
    inner join cumulated as w on c.account_id = w.account_id and c.month = w.month
),

unsplit as (
    select
        c.account_id,
        c.month,
        '(none)' as product_family,
        c.cogs_vendor_usd,
        c.cogs_support_usd,
        c.cogs_implementation_usd
    from account_costs as c
    where not exists (
            select 1
            from weights as w
            where w.account_id = c.account_id and w.month = c.month
        )
),

family_vendor as (
    select
        account_id,
        month,
        product_family,
        cogs_usd as cogs_vendor_usd,
        0 as cogs_support_usd,
        0 as cogs_implementation_usd
    from {{ ref('int_vendor_costs_allocated') }}
    where account_id is not null and product_family is not null
),

parts as (
    select * from split
    union all
    select * from unsplit
    union all
    select * from family_vendor
)

select
    cast(account_id as {{ dbt.type_string() }}) as account_id,
    cast(month as date) as month,
    cast(product_family as {{ dbt.type_string() }}) as product_family,
    cast(sum(cogs_vendor_usd) as decimal(18, 2)) as cogs_vendor_usd,
    cast(sum(cogs_support_usd) as decimal(18, 2)) as cogs_support_usd,
    cast(sum(cogs_implementation_usd) as decimal(18, 2)) as cogs_implementation_usd
from parts
group by account_id, month, product_family
