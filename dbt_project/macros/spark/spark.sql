{#-
  Spark (dbt-spark) implementations of the project's dispatched macros, and of the dbt macros whose
  Spark version does not give the same result as DuckDB (docs/engines-spark.md). The profile's
  session sets spark.sql.decimalOperations.allowPrecisionLoss=false, so DECIMAL arithmetic is typed
  as on DuckDB: a product keeps every digit (e.g. decimal(38,10) × decimal(18,4) is decimal(38,14),
  NULL if it overflows) instead of being cut to 6 decimals.
-#}

{#- R1 division, exact: the DuckDB algorithm (scaled integers, half away from zero) with Spark's
    exact integer quotient `div` (a bigint, so the quotient is taken in two parts of at most 10^9
    each: any result below 10^27 units of the last digit) and decimal(38,0) for DuckDB's hugeint. -#}
{% macro spark__div_round(numerator, denominator, scale, precision) -%}
    {%- set n -%}cast(cast({{ numerator }} as decimal(38, 10)) * 10000000000 as decimal(38, 0)){%- endset -%}
    {%- set d -%}cast(cast({{ denominator }} as decimal(38, 10)) * 10000000000 as decimal(38, 0)){%- endset -%}
    {%- set x -%}(2 * abs({{ n }}) * cast(1{{ '0' * scale }} as decimal(38, 0)) + abs({{ d }})){%- endset -%}
    {%- set y -%}(2 * abs({{ d }})){%- endset -%}
    {%- set y_hi -%}({{ y }} * cast(1000000000 as decimal(38, 0))){%- endset -%}
    {%- set q -%}(cast({{ x }} div {{ y_hi }} as decimal(38, 0)) * cast(1000000000 as decimal(38, 0)) + (({{ x }} % {{ y_hi }}) div {{ y }})){%- endset -%}
    {%- set signed -%}({{ q }} * case when ({{ n }} < 0) = ({{ d }} < 0) then 1 else -1 end){%- endset -%}
    {%- if scale > 0 -%}
    cast(cast({{ signed }} as decimal({{ 37 - scale }}, 0)) * cast(0.{{ '0' * (scale - 1) }}1 as decimal({{ scale }}, {{ scale }})) as decimal({{ precision }}, {{ scale }}))
    {%- else -%}
    cast({{ signed }} as decimal({{ precision }}, 0))
    {%- endif -%}
{%- endmacro %}

{#- Contracts: the marts' yml declare `varchar` (DuckDB, PostgreSQL); Spark's text type is
    `string` (a bare varchar is an error). dbt casts NULL to each declared type to check a contract. -#}
{% macro spark__cast(field, type) -%}
    {%- set t = type | trim | lower -%}
    cast({{ field }} as {{ 'string' if t in ('varchar', 'text', 'character varying') else type }})
{%- endmacro %}

{#- dbt-spark's listagg ignores its order by (and warns): the project's set fingerprints need an
    order. Supported: one ascending expression, `order by <expression>`. -#}
{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- set collected -%}collect_list({{ measure }}){%- endset -%}
    {%- if order_by_clause -%}
        {%- set key = modules.re.sub('(?i)^\\s*order\\s+by\\s+', '', order_by_clause) | trim -%}
        {%- if ',' in key or modules.re.search('(?i)\\s(asc|desc)$', key) -%}
            {{ exceptions.raise_compiler_error("listagg on Spark: only `order by <one expression>` is supported, got: " ~ order_by_clause) }}
        {%- endif -%}
        {%- set collected -%}transform(array_sort(collect_list(struct({{ key }} as k, {{ measure }} as v))), e -> e.v){%- endset -%}
    {%- endif -%}
    {%- if limit_num -%}
        {%- set collected -%}slice({{ collected }}, 1, {{ limit_num }}){%- endset -%}
    {%- endif -%}
    array_join({{ collected }}, {{ delimiter_text }})
{%- endmacro %}

{#- Incremental facts on Spark are tables: delete+insert needs Delta or Iceberg, which a plain local
    session lacks; a build on Spark writes a new run's schemas anyway (every fact is built whole). -#}
{% macro spark__incremental_fact(account_col, date_col) -%}
    {{ config(materialized='table') }}
{%- endmacro %}

{#- ... so int_incremental_state reads no previous version on Spark (its facts are rebuilt whole,
    and a Parquet table is dropped before it is rebuilt: it could not read itself). -#}
{% macro spark__reads_previous_state() -%}
    {{ return(false) }}
{%- endmacro %}
