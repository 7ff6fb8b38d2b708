-- rule: A5 exception queues by cause: exception_triage counted per queue, month and probable cause.
select
    cast(queue as {{ dbt.type_string() }}) as queue,
    cast(month as date) as month,
    cast(probable_cause as {{ dbt.type_string() }}) as probable_cause,
    cast(count(*) as {{ dbt.type_bigint() }}) as exceptions
from {{ ref('exception_triage') }}
group by queue, month, probable_cause
