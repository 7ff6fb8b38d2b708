-- rule: R5. MRR movements per account, month, type (new, reactivation, expansion, contraction,
-- churn, fx) and cause (churn: pause, cancel or downgrade_to_zero; reactivation: resume or
-- reactivation; otherwise the type). amount is in the account's currency (0 for fx), amount_usd in
-- the reporting currency; the causes of one movement add up to it exactly.
-- Incremental (macros/incremental.sql): changed accounts' months and the months in the window.
{{ incremental_fact('account_id', 'month') }}
select
    cast(account_id as {{ dbt.type_string() }}) as account_id,
    cast(month as date) as month,
    cast(movement_type as {{ dbt.type_string() }}) as movement_type,
    cast(movement_cause as {{ dbt.type_string() }}) as movement_cause,
    cast(amount as {{ type_mrr() }}) as amount,
    cast(currency as {{ dbt.type_string() }}) as currency,
    cast(amount_usd as {{ type_mrr() }}) as amount_usd
from {{ ref('int_mrr_movements_classified') }}
where {{ changed_scope('account_id', 'month') }}
