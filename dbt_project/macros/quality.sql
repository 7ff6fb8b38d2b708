{#- Q1 unknown accounts (docs/metrics.md): the rows of a staging model that count, i.e. every row except the facts
    int_unknown_account_facts_listed lists for `fact_table` (matched on the table's key `key`). -#}
{% macro known_account_facts(staging_model, fact_table, key) -%}
select s.*
from {{ ref(staging_model) }} as s
where not exists (
    select 1
    from {{ ref('int_unknown_account_facts_listed') }} as x
    where x.fact_table = '{{ fact_table }}' and x.fact_key = s.{{ key }}
)
{%- endmacro %}
