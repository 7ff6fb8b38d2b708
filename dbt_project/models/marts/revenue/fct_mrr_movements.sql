-- rule: R5. MRR movements per account, month and type (new, reactivation, expansion, contraction,
-- churn, fx). amount is in the account's currency (0 for fx), amount_usd in the reporting currency.
select
    cast(account_id as {{ dbt.type_string() }}) as account_id,
    cast(month as date) as month,
    cast(movement_type as {{ dbt.type_string() }}) as movement_type,
    cast(amount as {{ type_mrr() }}) as amount,
    cast(currency as {{ dbt.type_string() }}) as currency,
    cast(amount_usd as {{ type_mrr() }}) as amount_usd
from {{ ref('int_mrr_movements_classified') }}
