{#- Portable date helpers (dbt_project/README.md, "Money and portability"): no `::`, no generate_series, months added to an anchor. -#}

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

{#- every month from the month of `first_month` (a column of `relation`, already a month start) to the
    as-of month, as a derived table with column `month` (empty when the relation is empty) -#}
{% macro month_spine(relation, first_month) -%}
    (
        select {{ add_months('spine_n.n', 'spine_bounds.first_month') }} as month
        from (select min({{ first_month }}) as first_month from {{ relation }}) as spine_bounds
        cross join {{ integers(10) }} as spine_n
        where spine_bounds.first_month is not null
            and spine_n.n <= {{ months_between('spine_bounds.first_month', as_of_date()) }}
    )
{%- endmacro %}
