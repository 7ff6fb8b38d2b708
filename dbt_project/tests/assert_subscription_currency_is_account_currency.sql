{{ config(severity='warn') }}
-- R2 decision 5 (docs/metrics.md): subscription currency = its account's currency = its plan's currency. MRR is
-- summed per account in one currency, so a breach here would mix currencies: warn, reported.
select
    s.subscription_id,
    s.valid_from,
    s.currency,
    a.currency as account_currency,
    p.currency as plan_currency
from {{ ref('fct_subscription_segments') }} as s
left join {{ ref('stg_crm__accounts') }} as a on s.account_id = a.account_id
left join {{ ref('stg_billing__plans') }} as p on s.plan_id = p.plan_id
where s.currency <> a.currency or s.currency <> p.currency
