-- rule: R5 at the subscription grain. Per account-month of int_mrr_account_monthly, the segment of
-- each of the account's subscriptions in force on the month's snapshot day (its last day, the as-of
-- date in the as-of month): plan, charge type, status and the segment's MRR (0 unless active and
-- recurring). A subscription has one segment on a given day, so Σ mrr over an account-month's rows
-- = the account's MRR exactly. Paused and usage segments are kept (with 0 MRR): the movement causes
-- (pause, resume, downgrade_to_zero) read them. Cancelled subscriptions have no row.
-- Incremental (macros/incremental.sql): changed accounts' months and the months in the window.
{{ incremental_fact('account_id', 'month') }}
with months as (
    select
        account_id,
        month,
        currency,
        snapshot_day
    from {{ ref('int_mrr_account_monthly') }}
    where {{ changed_scope('account_id', 'month') }}
)

select
    m.account_id,
    m.month,
    s.subscription_id,
    s.valid_from,
    s.plan_id,
    s.product_family,
    s.charge_type,
    s.billing_period_months,
    s.status,
    s.quantity,
    m.currency,
    s.mrr
from months as m
inner join {{ ref('int_subscription_segments_merged') }} as s
    on m.account_id = s.account_id
        and s.valid_from <= m.snapshot_day
        and (s.valid_to is null or s.valid_to > m.snapshot_day)
