{#- Portable date helpers (portability.md): no `::`, no generate_series, months added to an anchor. -#}

{% macro as_of_date() -%}
    cast('{{ var("as_of_date") }}' as date)
{%- endmacro %}

{% macro month_start(d) -%}
    cast({{ dbt.date_trunc('month', d) }} as date)
{%- endmacro %}

{% macro add_months(n, d) -%}
    cast({{ dbt.dateadd('month', n, d) }} as date)
{%- endmacro %}

{% macro add_days(n, d) -%}
    cast({{ dbt.dateadd('day', n, d) }} as date)
{%- endmacro %}

{% macro days_between(a, b) -%}
    cast({{ dbt.datediff(a, b, 'day') }} as {{ dbt.type_int() }})
{%- endmacro %}

{#- whole calendar months from a to b (month parts only) -#}
{% macro months_between(a, b) -%}
    cast((extract(year from {{ b }}) * 12 + extract(month from {{ b }})) - (extract(year from {{ a }}) * 12 + extract(month from {{ a }})) as {{ dbt.type_int() }})
{%- endmacro %}

{#- integers 0 .. 2^bits - 1 as a derived table with column n (cross joins, portable) -#}
{% macro integers(bits=10) -%}
    (
        select
            {% for i in range(bits) %}b{{ i }}.n * {{ 2 ** i }}{% if not loop.last %} + {% endif %}{% endfor %} as n
        from
            {% for i in range(bits) -%}
        (select 0 as n union all select 1 as n) as b{{ i }}{% if not loop.last %} cross join {% endif %}
    {% endfor %}
    )
{%- endmacro %}

{#- the day a month's figures are taken: its last day, or the as-of date in the as-of month -#}
{% macro month_snapshot_day(month_col) -%}
    case
        when {{ add_days(-1, add_months(1, month_col)) }} > {{ as_of_date() }} then {{ as_of_date() }}
        else {{ add_days(-1, add_months(1, month_col)) }}
    end
{%- endmacro %}

{% macro date_key(d) -%}
    cast({{ d }} as {{ dbt.type_string() }})
{%- endmacro %}
