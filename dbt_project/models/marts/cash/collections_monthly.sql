-- rule: R8. Billings, collections and receivables per month, every month from the first issued
-- (non-void) invoice month to the as-of month, in the reporting currency.
-- Flows at their own dates' rates: billings (non-void invoice totals, credit invoices included, by
-- invoice_date), collected (succeeded payments), refunded, credited (credit notes on invoices) and
-- account credits (credit notes without invoice, reported apart: they reduce no receivable), by the
-- UTC date of the event. AR = Σ open_usd of the invoice × month-end rows (at D = month_snapshot_day,
-- so the as-of month ties exactly to ar_aging). DSO = AR / billings of the 90 days (D − 90, D] × 90,
-- NULL when those billings are ≤ 0. Failed payment rate = failed / (succeeded + failed) attempts of
-- the month (refunds are not attempts), NULL without attempts. Missing rates are excluded from _usd sums.
with invoices as (
    select *
    from {{ ref('int_issued_invoices_summarized') }}
    where not is_void
),

bounds as (
    select
        min({{ month_start('invoice_date') }}) as first_month,
        {{ month_start(as_of_date()) }} as last_month
    from invoices
),

months as (
    select
        {{ add_months('n.n', 'b.first_month') }} as month
    from bounds as b
    cross join {{ integers(10) }} as n
    where n.n <= {{ months_between('b.first_month', 'b.last_month') }}
),

billings as (
    select
        {{ month_start('invoice_date') }} as month,
        sum(total_usd) as billings_usd,
        count(*) as invoices_issued
    from invoices
    group by {{ month_start('invoice_date') }}
),

settlements as (
    select
        {{ month_start('event_date') }} as month,
        sum(case when status = 'succeeded' then amount_usd else 0 end) as collected_usd,
        sum(case when status = 'refunded' then amount_usd else 0 end) as refunded_usd,
        sum(case when status = 'credited' then amount_usd else 0 end) as credited_usd,
        sum(case when status = 'account_credit' then amount_usd else 0 end) as account_credits_usd,
        sum(case when status in ('succeeded', 'failed') then 1 else 0 end) as payment_attempts,
        sum(case when status = 'failed' then 1 else 0 end) as failed_payments
    from {{ ref('int_invoice_settlements_unioned') }}
    group by {{ month_start('event_date') }}
),

receivables as (
    select
        month,
        sum(open_usd) as ar_usd,
        count(*) as open_invoices
    from {{ ref('int_invoice_balances_monthly') }}
    group by month
),

billings_90_days as (
    select
        m.month,
        sum(i.total_usd) as billings_90_days_usd
    from months as m
    inner join invoices as i
        on i.invoice_date > {{ add_days(-90, month_snapshot_day('m.month')) }}
            and i.invoice_date <= {{ month_snapshot_day('m.month') }}
    group by m.month
),

combined as (
    select
        m.month,
        coalesce(b.billings_usd, 0) as billings_usd,
        coalesce(b.invoices_issued, 0) as invoices_issued,
        coalesce(s.collected_usd, 0) as collected_usd,
        coalesce(s.refunded_usd, 0) as refunded_usd,
        coalesce(s.credited_usd, 0) as credited_usd,
        coalesce(s.account_credits_usd, 0) as account_credits_usd,
        coalesce(r.ar_usd, 0) as ar_usd,
        coalesce(r.open_invoices, 0) as open_invoices,
        coalesce(b90.billings_90_days_usd, 0) as billings_90_days_usd,
        coalesce(s.payment_attempts, 0) as payment_attempts,
        coalesce(s.failed_payments, 0) as failed_payments
    from months as m
    left join billings as b on m.month = b.month
    left join settlements as s on m.month = s.month
    left join receivables as r on m.month = r.month
    left join billings_90_days as b90 on m.month = b90.month
)

select
    cast(month as date) as month,
    cast(billings_usd as decimal(18, 2)) as billings_usd,
    cast(invoices_issued as {{ dbt.type_bigint() }}) as invoices_issued,
    cast(collected_usd as decimal(18, 2)) as collected_usd,
    cast(refunded_usd as decimal(18, 2)) as refunded_usd,
    cast(credited_usd as decimal(18, 2)) as credited_usd,
    cast(account_credits_usd as decimal(18, 2)) as account_credits_usd,
    cast(ar_usd as decimal(18, 2)) as ar_usd,
    cast(open_invoices as {{ dbt.type_bigint() }}) as open_invoices,
    cast(billings_90_days_usd as decimal(18, 2)) as billings_90_days_usd,
    cast(
        case when billings_90_days_usd > 0 then {{ div_round('ar_usd * 90', 'billings_90_days_usd', 2) }} end
        as decimal(18, 2)
    ) as dso_days,
    cast(payment_attempts as {{ dbt.type_bigint() }}) as payment_attempts,
    cast(failed_payments as {{ dbt.type_bigint() }}) as failed_payments,
    cast(
        case when payment_attempts > 0 then {{ div_round('failed_payments', 'payment_attempts', 6) }} end
        as decimal(18, 6)
    ) as failed_payment_rate
from combined
