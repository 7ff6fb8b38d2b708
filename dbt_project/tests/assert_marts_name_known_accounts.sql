-- rule: Q1 unknown accounts. No fact of an unknown account reaches a total: every account_id
-- in the money marts is an account of crm.accounts (dim_accounts holds every one, deleted included).
with mart_accounts as (
    select distinct
        'fct_subscription_segments' as mart,
        account_id
    from {{ ref('fct_subscription_segments') }}
    union all
    select distinct
        'fct_invoice_lines' as mart,
        account_id
    from {{ ref('fct_invoice_lines') }}
    union all
    select distinct
        'fct_revenue_schedule' as mart,
        account_id
    from {{ ref('fct_revenue_schedule') }}
    union all
    select distinct
        'fct_mrr_monthly' as mart,
        account_id
    from {{ ref('fct_mrr_monthly') }}
    union all
    select distinct
        'fct_issued_invoices' as mart,
        account_id
    from {{ ref('fct_issued_invoices') }}
    union all
    select distinct
        'account_margin_monthly' as mart,
        account_id
    from {{ ref('account_margin_monthly') }}
    union all
    select distinct
        'billing_exceptions' as mart,
        account_id
    from {{ ref('billing_exceptions') }}
    union all
    select distinct
        'onboarding' as mart,
        account_id
    from {{ ref('onboarding') }}
    union all
    select distinct
        'quote_to_cash' as mart,
        account_id
    from {{ ref('quote_to_cash') }}
)

select
    m.mart,
    m.account_id
from mart_accounts as m
left join {{ ref('dim_accounts') }} as a on m.account_id = a.account_id
where m.account_id is not null and a.account_id is null
