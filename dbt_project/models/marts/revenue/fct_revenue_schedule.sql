-- rule: R4 (split: R1). Recognized revenue per line and month, months up to the as-of month.
-- Credit notes are rows of line_type credit_note keyed by the credit note, so revenue by month is
-- one sum. Includes the as-of month's usage, recognized to date but not yet invoiced (is_billed false).
-- The as-of month holds what is recognized up to and including the as-of date (ratable lines by day).
-- Incremental (macros/incremental.sql): changed accounts' rows and the months in the window.
{{ incremental_fact('account_id', 'month') }}
select
    cast(invoice_line_key as {{ dbt.type_string() }}) as invoice_line_key,
    cast(month as date) as month,
    cast(account_id as {{ dbt.type_string() }}) as account_id,
    cast(product_family as {{ dbt.type_string() }}) as product_family,
    cast(line_type as {{ dbt.type_string() }}) as line_type,
    cast(recognized_to_date as decimal(18, 2)) as recognized,
    cast(currency as {{ dbt.type_string() }}) as currency,
    cast(recognized_usd_to_date as decimal(18, 2)) as recognized_usd,
    cast(is_billed as boolean) as is_billed,
    cast(recognized_usd_to_date is null as boolean) as is_missing_fx_rate
from {{ ref('int_revenue_schedule_split') }}
where month <= {{ month_start(as_of_date()) }}
    and {{ changed_scope('account_id', 'month') }}
