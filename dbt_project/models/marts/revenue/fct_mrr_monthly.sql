-- rule: R5. MRR per account and month (segments active on the month's last day), unrounded,
-- from the account's first month with a recurring segment to the as-of month (zero months kept).
-- Incremental (macros/incremental.sql): changed accounts' months and the months in the window.
{{ incremental_fact('account_id', 'month') }}
select
    cast(account_id as {{ dbt.type_string() }}) as account_id,
    cast(month as date) as month,
    cast(currency as {{ dbt.type_string() }}) as currency,
    cast(mrr as {{ type_mrr() }}) as mrr,
    cast(mrr_usd as {{ type_mrr() }}) as mrr_usd,
    cast(12 * mrr_usd as {{ type_mrr() }}) as arr_usd,
    cast(mrr_usd is null as boolean) as is_missing_fx_rate
from {{ ref('int_mrr_account_monthly') }}
where {{ changed_scope('account_id', 'month') }}
