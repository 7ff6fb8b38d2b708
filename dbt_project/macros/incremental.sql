{#-
  Incremental facts (dbt_project/README.md, "Incremental facts"). A nightly build recomputes only
  the rows its new data can change: every row of the accounts whose inputs changed
  (int_changed_accounts) and, for every account, the rows dated in or after the window start
  (int_changed_window: the as-of date moved, an FX rate changed). The changed rows are deleted
  first (pre-hook) and recomputed (appended): delete+insert by (account, month), including rows
  that no longer exist. A full refresh (an empty build file, or --full-refresh) builds everything.
-#}

{#- True when an incremental fact applies this build's change set: the run is incremental and
    int_changed_window was built by this dbt invocation. A model selected without it (by hand:
    `dbt build --select fct_mrr_monthly`) would otherwise apply another run's changes; it is
    rebuilt whole instead. -#}
{% macro changes_apply() -%}
    {%- set window = ref('int_changed_window') -%}
    {%- if not execute or not is_incremental() -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set got = run_query('select invocation_id from ' ~ window).columns[0].values() -%}
    {{ return(got | length == 1 and got[0] == invocation_id) }}
{%- endmacro %}

{#- The rows of a model this build recomputes: those of a changed account (`account_col`) or dated
    in the window (`date_col`); either may be omitted. Every row unless changes_apply(). -#}
{% macro changed_scope(account_col=none, date_col=none) -%}
    {%- set accounts = ref('int_changed_accounts') -%}
    {%- set window = ref('int_changed_window') -%}
    {%- set parts = [] -%}
    {%- if account_col is not none -%}
        {%- do parts.append(account_col ~ ' in (select cia.account_id from ' ~ accounts ~ ' as cia)') -%}
    {%- endif -%}
    {%- if date_col is not none -%}
        {%- do parts.append(date_col ~ ' >= (select ciw.window_start from ' ~ window ~ ' as ciw)') -%}
    {%- endif -%}
    {%- if changes_apply() -%}
        ({{ parts | join(' or ') }})
    {%- else -%}
        (1 = 1)
    {%- endif -%}
{%- endmacro %}

{#- Pre-hook of an incremental fact: delete the rows this build recomputes (all of them when the
    change set is not this invocation's). -#}
{% macro delete_changed_rows(account_col, date_col) -%}
    {%- if execute and is_incremental() -%}
        {%- if not changes_apply() -%}
            {%- do log(this.identifier ~ ": no change set from this dbt invocation "
                ~ "(int_changed_window not selected): rebuilt whole", info=true) -%}
        {%- endif -%}
        delete from {{ this }} where {{ changed_scope(account_col, date_col) }}
    {%- endif -%}
{%- endmacro %}

{#- Whether int_incremental_state compares with its previous version (Spark: no, macros/spark). -#}
{% macro reads_previous_state() -%}
    {{ return(adapter.dispatch('reads_previous_state', 'subops')()) }}
{%- endmacro %}

{% macro default__reads_previous_state() -%}
    {{ return(true) }}
{%- endmacro %}

{#- Configuration shared by the incremental facts (Spark: tables, macros/spark/spark.sql). -#}
{% macro incremental_fact(account_col, date_col) -%}
    {{ adapter.dispatch('incremental_fact', 'subops')(account_col, date_col) }}
{%- endmacro %}

{% macro default__incremental_fact(account_col, date_col) -%}
    {{ config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        pre_hook=["{{ delete_changed_rows('" ~ account_col ~ "', '" ~ date_col ~ "') }}"],
    ) }}
{%- endmacro %}

{#- A row's fingerprint: a hash of its columns as text (NULL kept apart from ''). -#}
{% macro row_fingerprint(columns) -%}
    {%- set parts = [] -%}
    {%- for c in columns -%}
        {%- do parts.append("coalesce(cast(" ~ c ~ " as " ~ dbt.type_string() ~ "), '~')") -%}
        {%- if not loop.last %}{% do parts.append("'|'") %}{% endif -%}
    {%- endfor -%}
    {{ dbt.hash(dbt.concat(parts)) }}
{%- endmacro %}

{#- A set of rows' fingerprint (aggregate): the hash of their sorted row fingerprints. -#}
{% macro set_fingerprint(row_hash) -%}
    {{ dbt.hash(dbt.listagg(row_hash, "','", "order by " ~ row_hash)) }}
{%- endmacro %}

{#- The code the incremental facts were computed with: the project's files (the build passes their
    digest) and every model's checksum. Another version rebuilds every incremental fact whole. -#}
{% macro code_fingerprint() -%}
    {%- if execute -%}
        {%- set sums = [] -%}
        {%- for node in graph.nodes.values() | sort(attribute='unique_id') -%}
            {%- if node.resource_type in ('model', 'seed', 'snapshot') -%}
                {%- do sums.append(node.unique_id ~ '=' ~ node.checksum.checksum) -%}
            {%- endif -%}
        {%- endfor -%}
        {{- local_md5(var('project_digest', '') ~ '|' ~ sums | join(',')) -}}
    {%- endif -%}
{%- endmacro %}
