-- rule: Q1 unknown accounts. Nothing lost, nothing invented: for every screened fact table, the
-- staging rows = the rows that count (screened) + the rows left out (listed), and every listed kind
-- of fact appears in excluded_facts with its count.
{% set tables = [
    ('billing.subscription_events', 'stg_billing__subscription_events', 'int_subscription_events_screened'),
    ('billing.usage', 'stg_billing__usage', 'int_usage_screened'),
    ('billing.one_time_charges', 'stg_billing__one_time_charges', 'int_one_time_charges_screened'),
    ('billing.invoices', 'stg_billing__invoices', 'int_invoices_screened'),
    ('billing.invoice_lines', 'stg_billing__invoice_lines', 'int_invoice_lines_screened'),
    ('billing.payments', 'stg_billing__payments', 'int_payments_screened'),
    ('billing.credit_notes', 'stg_billing__credit_notes', 'int_credit_notes_screened'),
    ('support.tickets', 'stg_support__tickets', 'int_tickets_screened'),
    ('support.implementations', 'stg_support__implementations', 'int_implementations_screened'),
    ('crm.opportunities', 'stg_crm__opportunities', 'int_opportunities_screened'),
    ('procurement.vendor_bills', 'stg_procurement__vendor_bills', 'int_vendor_bills_screened'),
] %}
with counts as (
    {% for fact_table, staging, screened in tables %}
        select
            '{{ fact_table }}' as fact_table,
            (select count(*) from {{ ref(staging) }}) as staging_rows,
            (select count(*) from {{ ref(screened) }}) as screened_rows,
            (
                select count(*) from {{ ref('int_unknown_account_facts_listed') }}
                where fact_table = '{{ fact_table }}'
            ) as listed_rows
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

listed as (
    select
        fact_table,
        reason,
        count(*) as listed_rows
    from {{ ref('int_unknown_account_facts_listed') }}
    group by fact_table, reason
)

select
    fact_table,
    cast(null as {{ dbt.type_string() }}) as reason,
    'staging rows <> screened + listed' as failure
from counts
where staging_rows <> screened_rows + listed_rows
union all
select
    l.fact_table,
    l.reason,
    'listed facts missing from excluded_facts' as failure
from listed as l
left join {{ ref('excluded_facts') }} as e on l.fact_table = e.fact_table and l.reason = e.reason
where e.fact_table is null or e.excluded_rows <> l.listed_rows
