-- rule: A5 exception triage: every billing exception and every row or file the loader quarantined or
-- reported, with its probable cause and the evidence that decided it (int_exceptions_triaged).
select
    cast(queue as {{ dbt.type_string() }}) as queue,
    cast(exception_key as {{ dbt.type_string() }}) as exception_key,
    cast(month as date) as month,
    cast(account_id as {{ dbt.type_string() }}) as account_id,
    cast(exception_type as {{ dbt.type_string() }}) as exception_type,
    cast(probable_cause as {{ dbt.type_string() }}) as probable_cause,
    cast(evidence as {{ dbt.type_string() }}) as evidence,
    cast(row_ref as {{ dbt.type_string() }}) as row_ref
from {{ ref('int_exceptions_triaged') }}
