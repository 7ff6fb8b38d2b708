{#- R8/R9 helpers (cash and billing reconciliation). -#}

{#- a sorted, comma-separated list of the string values of `expression` in a group (an aggregate) -#}
{% macro id_list(expression) -%}
    {{ adapter.dispatch('id_list', 'subops')(expression) }}
{%- endmacro %}

{#- PostgreSQL and DuckDB -#}
{% macro default__id_list(expression) -%}
    string_agg({{ expression }}, ',' order by {{ expression }})
{%- endmacro %}

{% macro spark__id_list(expression) -%}
    concat_ws(',', array_sort(collect_list({{ expression }})))
{%- endmacro %}

{#- R8 aging bucket of a days-past-due expression: current (not yet due), 1-30, 31-60, 61-90, over_90 -#}
{% macro aging_bucket(days_past_due) -%}
    case
        when {{ days_past_due }} <= 0 then 'current'
        when {{ days_past_due }} <= 30 then '1-30'
        when {{ days_past_due }} <= 60 then '31-60'
        when {{ days_past_due }} <= 90 then '61-90'
        else 'over_90'
    end
{%- endmacro %}
