{#- R10: portable percentile (continuous, linear interpolation) of a numeric expression, as an
    aggregate. The result is cast to decimal(precision, scale) so every engine returns the same type.
    DuckDB: quantile_cont(x, p) over x widened to decimal(38,10) (exact); PostgreSQL (default):
    percentile_cont(p) within group (order by x), in double precision, whose 15 significant digits
    cast to numeric hold the exact interpolation of values with a few decimals.
    NULLs are ignored by both; an all-NULL (or empty) group gives NULL. -#}
{% macro percentile(expression, p, scale=2, precision=18) -%}
    {{ adapter.dispatch('percentile', 'subops')(expression, p, scale, precision) }}
{%- endmacro %}

{% macro default__percentile(expression, p, scale, precision) -%}
    cast(round(cast(percentile_cont({{ p }}) within group (order by {{ expression }}) as decimal(38, 10)), {{ scale }}) as decimal({{ precision }}, {{ scale }}))
{%- endmacro %}

{#- DuckDB interpolates a DECIMAL in its own scale (the median of 21.28 and 21.29 is 21.28 in
    decimal(18,2)): widen it first, so the interpolation is exact and rounds like PostgreSQL's. -#}
{% macro duckdb__percentile(expression, p, scale, precision) -%}
    cast(round(quantile_cont(cast({{ expression }} as decimal(38, 10)), {{ p }}), {{ scale }}) as decimal({{ precision }}, {{ scale }}))
{%- endmacro %}

{#- the median: percentile 0.5 -#}
{% macro median(expression, scale=2, precision=18) -%}
    {{ percentile(expression, 0.5, scale, precision) }}
{%- endmacro %}

{#- R10: hours from timestamp a to timestamp b = whole seconds between / 3600, decimal(18,2), half away from zero -#}
{% macro hours_between(a, b) -%}
    {{ div_round(dbt.datediff(a, b, 'second'), 3600, 2, 18) }}
{%- endmacro %}

{#- the end of the as-of date (exclusive): facts stamped before it are known at the as-of time -#}
{% macro as_of_end_ts() -%}
    cast({{ add_days(1, as_of_date()) }} as {{ dbt.type_timestamp() }})
{%- endmacro %}
