-- rule: R7 COGS by product family (R7 decision 14). The family split keeps every cent of each
-- account-month: summed over families, int_account_costs_by_family_allocated has exactly the vendor,
-- support and implementation COGS of account_margin_monthly; and a split cost lands only in
-- families where the account has positive revenue that month, or in '(none)' when it has none.
with split as (
    select
        account_id,
        month,
        sum(cogs_vendor_usd) as cogs_vendor_usd,
        sum(cogs_support_usd) as cogs_support_usd,
        sum(cogs_implementation_usd) as cogs_implementation_usd
    from {{ ref('int_account_costs_by_family_allocated') }}
    where month <= {{ month_start(as_of_date()) }}
    group by account_id, month
),

accounts as (
    select
        account_id,
        month,
        cogs_vendor_usd,
        cogs_support_usd,
        cogs_implementation_usd
    from {{ ref('account_margin_monthly') }}
    where cogs_vendor_usd <> 0 or cogs_support_usd <> 0 or cogs_implementation_usd <> 0
),

positive_families as (
    select
        account_id,
        month,
        product_family
    from {{ ref('int_account_revenue_monthly') }}
    where product_family is not null and revenue_usd > 0
)

select
    coalesce(a.account_id, s.account_id) as account_id,
    coalesce(a.month, s.month) as month,
    'family split does not conserve the account-month cost' as failure
from accounts as a
full outer join split as s on a.account_id = s.account_id and a.month = s.month
where coalesce(a.cogs_vendor_usd, 0) <> coalesce(s.cogs_vendor_usd, 0)
    or coalesce(a.cogs_support_usd, 0) <> coalesce(s.cogs_support_usd, 0)
    or coalesce(a.cogs_implementation_usd, 0) <> coalesce(s.cogs_implementation_usd, 0)
union all
select
    c.account_id,
    c.month,
    'support or implementation cost in a family without positive revenue' as failure
from {{ ref('int_account_costs_by_family_allocated') }} as c
where (c.cogs_support_usd <> 0 or c.cogs_implementation_usd <> 0)
    and (
        (c.product_family = '(none)' and exists (
            select 1
            from positive_families as p
            where p.account_id = c.account_id and p.month = c.month
        ))
        or (c.product_family <> '(none)' and not exists (
            select 1
            from positive_families as p
            where p.account_id = c.account_id and p.month = c.month and p.product_family = c.product_family
        ))
    )
