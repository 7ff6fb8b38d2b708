-- rule: Q1 unknown accounts. The data-quality count of what the totals leave out: per fact table
-- and reason (unknown_account: the row names an account crm.accounts does not have;
-- parent_unknown_account: its subscription or invoice does), the rows, the unknown accounts, the
-- money they carry in the reporting currency at each fact's own date (amount_basis says which money;
-- rows without an FX rate are left out of amount_usd and counted in missing_fx_rows) and their date
-- range. Every (table, reason) the rule can produce is listed, 0 when nothing is left out, so a clean
-- build shows its zeros. Rows are every loaded row (not only those up to the as-of date), so the
-- unknown_account rows equal the loader's unknown_reference breaches on account_id.
with kinds as (
    select
        'billing.subscription_events' as fact_table,
        'unknown_account' as reason,
        'MRR, revenue, deferred revenue, billing reconciliation, margin' as left_out_of,
        'none (MRR and lines are derived)' as amount_basis,
        false as has_amount
    union all
    select
        'billing.subscription_events' as fact_table,
        'parent_unknown_account' as reason,
        'MRR, revenue, deferred revenue, billing reconciliation, margin' as left_out_of,
        'none (MRR and lines are derived)' as amount_basis,
        false as has_amount
    union all
    select
        'billing.usage' as fact_table,
        'unknown_account' as reason,
        'usage revenue, billing reconciliation, margin' as left_out_of,
        'none (rated later)' as amount_basis,
        false as has_amount
    union all
    select
        'billing.usage' as fact_table,
        'parent_unknown_account' as reason,
        'usage revenue, billing reconciliation, margin' as left_out_of,
        'none (rated later)' as amount_basis,
        false as has_amount
    union all
    select
        'billing.one_time_charges' as fact_table,
        'unknown_account' as reason,
        'revenue, billing reconciliation, margin' as left_out_of,
        'charge amount' as amount_basis,
        true as has_amount
    union all
    select
        'billing.invoices' as fact_table,
        'unknown_account' as reason,
        'AR, collections, billing reconciliation' as left_out_of,
        'invoice total' as amount_basis,
        true as has_amount
    union all
    select
        'billing.invoice_lines' as fact_table,
        'parent_unknown_account' as reason,
        'billing reconciliation' as left_out_of,
        'line amount' as amount_basis,
        true as has_amount
    union all
    select
        'billing.payments' as fact_table,
        'unknown_account' as reason,
        'collections, AR' as left_out_of,
        'net cash (succeeded - refunded)' as amount_basis,
        true as has_amount
    union all
    select
        'billing.payments' as fact_table,
        'parent_unknown_account' as reason,
        'collections, AR' as left_out_of,
        'net cash (succeeded - refunded)' as amount_basis,
        true as has_amount
    union all
    select
        'billing.credit_notes' as fact_table,
        'unknown_account' as reason,
        'revenue, AR, margin' as left_out_of,
        'credit note amount' as amount_basis,
        true as has_amount
    union all
    select
        'billing.credit_notes' as fact_table,
        'parent_unknown_account' as reason,
        'revenue, AR, margin' as left_out_of,
        'credit note amount' as amount_basis,
        true as has_amount
    union all
    select
        'support.tickets' as fact_table,
        'unknown_account' as reason,
        'support cost, margin, support metrics' as left_out_of,
        'support cost (R7 rate)' as amount_basis,
        true as has_amount
    union all
    select
        'support.implementations' as fact_table,
        'unknown_account' as reason,
        'implementation cost, margin, onboarding' as left_out_of,
        'implementation cost (R7 rate)' as amount_basis,
        true as has_amount
    union all
    select
        'crm.opportunities' as fact_table,
        'unknown_account' as reason,
        'bookings, quote-to-cash' as left_out_of,
        'closed-won amount' as amount_basis,
        true as has_amount
    union all
    select
        'procurement.vendor_bills' as fact_table,
        'unknown_account' as reason,
        'COGS, margin, vendor spend' as left_out_of,
        'bill amount' as amount_basis,
        true as has_amount
),

listed as (
    select
        fact_table,
        reason,
        count(*) as excluded_rows,
        count(distinct unknown_account_id) as unknown_accounts,
        sum(amount_usd) as amount_usd,
        sum(case when is_missing_fx_rate then 1 else 0 end) as missing_fx_rows,
        min(fact_date) as first_date,
        max(fact_date) as last_date
    from {{ ref('int_unknown_account_facts_listed') }}
    group by fact_table, reason
)

select
    cast(k.fact_table as {{ dbt.type_string() }}) as fact_table,
    cast(k.reason as {{ dbt.type_string() }}) as reason,
    cast(coalesce(l.excluded_rows, 0) as {{ dbt.type_bigint() }}) as excluded_rows,
    cast(coalesce(l.unknown_accounts, 0) as {{ dbt.type_bigint() }}) as unknown_accounts,
    cast(case when k.has_amount then coalesce(l.amount_usd, 0) end as decimal(18, 2)) as amount_usd,
    cast(coalesce(l.missing_fx_rows, 0) as {{ dbt.type_bigint() }}) as missing_fx_rows,
    cast(l.first_date as date) as first_date,
    cast(l.last_date as date) as last_date,
    cast(k.amount_basis as {{ dbt.type_string() }}) as amount_basis,
    cast(k.left_out_of as {{ dbt.type_string() }}) as left_out_of
from kinds as k
left join listed as l on k.fact_table = l.fact_table and k.reason = l.reason
