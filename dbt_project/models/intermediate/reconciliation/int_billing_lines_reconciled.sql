-- rule: R9 billing reconciliation. Computed lines (R3, billed, invoice_date on or before the as-of date)
-- vs issued invoice lines (billing system; invoices not void, invoice_date on or before the as-of date),
-- each side summed per key (subscription_id or charge_id, period_start); computed period_start =
-- service_start (usage: the usage month's 1st; one-time: milestone_date), which is how the billing
-- system dates its lines. One row per key of either side (full outer join):
--   expected only  → missing_in_billing when the expected sum is not 0 (leakage = expected);
--   issued only    → unexpected_in_billing when the issued sum is not 0 (no leakage);
--   both           → amount_mismatch when |issued − expected| > 0.01 (R9's tolerance, matched keys only);
--   otherwise exception_type NULL (reconciled; a key whose only side sums to 0 is not an exception).
-- difference = issued − expected; leakage = expected − issued where positive, on exceptions only.
-- An issued line with neither subscription nor charge keys on its invoice_line_id.
with expected as (
    select
        coalesce(subscription_id, charge_id) as ref,
        service_start as period_start,
        max(account_id) as account_id,
        max(subscription_id) as subscription_id,
        max(charge_id) as charge_id,
        max(currency) as currency,
        sum(amount) as expected_amount,
        count(*) as expected_lines
    from {{ ref('int_invoice_lines_unioned') }}
    where is_billed and invoice_date <= {{ as_of_date() }}
    group by coalesce(subscription_id, charge_id), service_start
),

issued_lines as (
    select
        coalesce(l.subscription_id, l.charge_id, l.invoice_line_id) as ref,
        l.period_start,
        l.subscription_id,
        l.charge_id,
        l.invoice_id,
        l.amount,
        i.account_id,
        i.currency
    from {{ ref('int_invoice_lines_screened') }} as l
    inner join {{ ref('int_invoices_screened') }} as i on l.invoice_id = i.invoice_id
    where i.status <> 'void' and i.invoice_date <= {{ as_of_date() }}
),

issued_invoice_lists as (
    select
        ref,
        period_start,
        {{ id_list('invoice_id') }} as issued_invoice_ids
    from (
        select distinct
            ref,
            period_start,
            invoice_id
        from issued_lines
    ) as d
    group by ref, period_start
),

issued as (
    select
        l.ref,
        l.period_start,
        max(l.account_id) as account_id,
        max(l.subscription_id) as subscription_id,
        max(l.charge_id) as charge_id,
        max(l.currency) as currency,
        sum(l.amount) as issued_amount,
        count(*) as issued_lines
    from issued_lines as l
    group by l.ref, l.period_start
),

joined as (
    select
        coalesce(e.ref, i.ref) as ref,
        coalesce(e.period_start, i.period_start) as period_start,
        coalesce(e.account_id, i.account_id) as account_id,
        case when e.ref is not null then e.subscription_id else i.subscription_id end as subscription_id,
        case when e.ref is not null then e.charge_id else i.charge_id end as charge_id,
        coalesce(e.currency, i.currency) as currency,
        cast(coalesce(e.expected_amount, 0) as decimal(18, 2)) as expected_amount,
        cast(coalesce(i.issued_amount, 0) as decimal(18, 2)) as issued_amount,
        coalesce(e.expected_lines, 0) as expected_lines,
        coalesce(i.issued_lines, 0) as issued_lines,
        case
            when i.ref is null then case when e.expected_amount <> 0 then 'missing_in_billing' end
            when e.ref is null then case when i.issued_amount <> 0 then 'unexpected_in_billing' end
            when abs(i.issued_amount - e.expected_amount) > 0.01 then 'amount_mismatch'
        end as exception_type
    from expected as e
    full outer join issued as i
        on e.ref = i.ref
            and e.period_start = i.period_start
)

select
    {{ dbt.concat(['j.ref', "'|'", "coalesce(" ~ date_key('j.period_start') ~ ", '')"]) }} as reconciliation_key,
    j.ref,
    j.account_id,
    j.subscription_id,
    j.charge_id,
    j.period_start,
    j.currency,
    j.expected_amount,
    j.issued_amount,
    cast(j.issued_amount - j.expected_amount as decimal(18, 2)) as difference,
    cast(
        case
            when j.exception_type is not null and j.expected_amount > j.issued_amount then j.expected_amount - j.issued_amount
            else 0
        end as decimal(18, 2)
    ) as leakage,
    j.expected_lines,
    j.issued_lines,
    l.issued_invoice_ids,
    j.exception_type
from joined as j
left join issued_invoice_lists as l
    on j.ref = l.ref
        and j.period_start = l.period_start
