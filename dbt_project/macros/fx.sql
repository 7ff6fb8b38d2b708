{#- R1: FX as-of lookup. Joins int_fx_rates_ranged for the rate in force on `day_expr`
    (latest rate_date <= day). A missing rate leaves the joined columns NULL: the converted amount
    is NULL and flagged, never zero. -#}
{% macro fx_join(alias, currency_expr, day_expr) -%}
    left join {{ ref('int_fx_rates_ranged') }} as {{ alias }}
        on {{ alias }}.currency = {{ currency_expr }}
        and {{ alias }}.valid_from <= {{ day_expr }}
        and {{ alias }}.valid_to > {{ day_expr }}
{%- endmacro %}

{#- amount in the reporting currency = amount × reporting units_per_usd / units_per_usd -#}
{% macro to_reporting(amount, alias, scale=2, precision=18) -%}
    {{ div_round(amount ~ ' * ' ~ alias ~ '.reporting_units_per_usd', alias ~ '.units_per_usd', scale, precision) }}
{%- endmacro %}

{#- same, with explicit rate columns (for rows that carry their rate) -#}
{% macro convert_at(amount, units_per_usd, reporting_units_per_usd, scale=10, precision=38) -%}
    {{ div_round(amount ~ ' * ' ~ reporting_units_per_usd, units_per_usd, scale, precision) }}
{%- endmacro %}
