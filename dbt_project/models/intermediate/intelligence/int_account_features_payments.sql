-- rule: M1 renewal risk, payments. Per observation (int_account_features_mrr): failed collection
-- attempts in the 90 days ending on the observation day (fct_payments, status failed), and the most
-- days past due of the account's invoices still open at M's month-end (int_invoice_balances_monthly,
-- R8; 0 when nothing is overdue).
with failed as (
    select
        o.account_id,
        o.month,
        count(p.payment_id) as failed_payments_90d
    from {{ ref('int_account_features_mrr') }} as o
    left join {{ ref('fct_payments') }} as p
        on o.account_id = p.account_id
            and p.status = 'failed'
            and p.attempted_at >= cast({{ add_days(-89, 'o.observed_at') }} as {{ dbt.type_timestamp() }})
            and p.attempted_at < cast({{ add_days(1, 'o.observed_at') }} as {{ dbt.type_timestamp() }})
    group by o.account_id, o.month
),

overdue as (
    select
        account_id,
        month,
        max(days_past_due) as max_days_past_due
    from {{ ref('int_invoice_balances_monthly') }}
    where open_amount <> 0 and days_past_due > 0
    group by account_id, month
)

select
    f.account_id,
    f.month,
    cast(f.failed_payments_90d as {{ dbt.type_int() }}) as failed_payments_90d,
    cast(coalesce(d.max_days_past_due, 0) as {{ dbt.type_int() }}) as max_days_past_due
from failed as f
left join overdue as d on f.account_id = d.account_id and f.month = d.month
