{#-
  Exact money arithmetic (R1). DuckDB types DECIMAL / DECIMAL as DOUBLE, so division is the one
  DuckDB-only construct: it is done here in scaled 128-bit integers and rounded half away from zero.
  Everywhere else: multiply first (widening one side), divide last through div_round, round once.
-#}

{#- round(numerator / denominator, scale), half away from zero, as decimal(precision, scale) -#}
{% macro div_round(numerator, denominator, scale=2, precision=38) -%}
    {{ adapter.dispatch('div_round', 'subops')(numerator, denominator, scale, precision) }}
{%- endmacro %}

{% macro default__div_round(numerator, denominator, scale, precision) -%}
    cast(round(cast({{ numerator }} as decimal(38, 16)) / cast({{ denominator }} as decimal(38, 16)), {{ scale }}) as decimal({{ precision }}, {{ scale }}))
{%- endmacro %}

{% macro duckdb__div_round(numerator, denominator, scale, precision) -%}
    {%- set n -%}cast(cast({{ numerator }} as decimal(38, 10)) * 10000000000 as hugeint){%- endset -%}
    {%- set d -%}cast(cast({{ denominator }} as decimal(38, 10)) * 10000000000 as hugeint){%- endset -%}
    {%- set unit = '1' ~ ('0' * scale) -%}
    cast(
        cast(
            sign({{ n }}) * sign({{ d }})
            * ((2 * abs({{ n }}) * cast({{ unit }} as hugeint) + abs({{ d }})) // (2 * abs({{ d }})))
            as decimal(38, 0)
        ){% if scale > 0 %} * cast(0.{{ '0' * (scale - 1) }}1 as decimal({{ scale + 1 }}, {{ scale }})){% endif %}
        as decimal({{ precision }}, {{ scale }})
    )
{%- endmacro %}

{#- round a DECIMAL expression (no division) to cents, half away from zero -#}
{% macro round_money(expression, scale=2, precision=18) -%}
    cast(round(cast({{ expression }} as decimal(38, 10)), {{ scale }}) as decimal({{ precision }}, {{ scale }}))
{%- endmacro %}

{#- product of two DECIMAL(18,4) values without DuckDB's DECIMAL(18,8) overflow -#}
{% macro mul_money(a, b) -%}
    (cast({{ a }} as decimal(19, 4)) * cast({{ b }} as decimal(18, 4)))
{%- endmacro %}

{#- MRR and other unrounded money: decimal(38,10) -#}
{% macro type_mrr() -%}decimal(38, 10){%- endmacro %}

{#- R1: the cents of `amount` a month earns when `cum` of `total` days are served by its end and
    `prev_cum` by the previous month's end: round(A·cum/T) − round(A·prev/T). Summed over a
    schedule's months it telescopes to exactly the amount, so no cent is lost. -#}
{% macro cent_share(amount, cum, prev_cum, total) -%}
    ({{ div_round(amount ~ ' * ' ~ cum, total, 2) }} - {{ div_round(amount ~ ' * ' ~ prev_cum, total, 2) }})
{%- endmacro %}

{#- R1/R4 day spread: the rows of `rows` (a CTE with `service_start`, `service_end` exclusive) once per
    calendar month of service, with total_days (T), month, cum_days (days served by the month's end)
    and prev_cum_days (days served before the month) — the inputs of cent_share. -#}
{% macro months_of_service(rows) -%}
    {%- set month -%}{{ add_months('spread_n.n', month_start('r.service_start')) }}{%- endset -%}
    {%- set next_month -%}{{ add_months('spread_n.n + 1', month_start('r.service_start')) }}{%- endset -%}
    select
        r.*,
        {{ days_between('r.service_start', 'r.service_end') }} as total_days,
        {{ month }} as month,
        {{ days_between('r.service_start', 'case when r.service_end < ' ~ next_month ~ ' then r.service_end else ' ~ next_month ~ ' end') }} as cum_days,
        {{ days_between('r.service_start', 'case when r.service_start > ' ~ month ~ ' then r.service_start else ' ~ month ~ ' end') }} as prev_cum_days
    from {{ rows }} as r
    cross join {{ integers(10) }} as spread_n
    where spread_n.n <= {{ months_between('r.service_start', add_days(-1, 'r.service_end')) }}
{%- endmacro %}
