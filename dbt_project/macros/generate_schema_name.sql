{#- Schemas are the layer names themselves (staging, intermediate, marts), not <target>_<layer>.
    A server target builds each run into its own schemas first: var schema_prefix = run_<tag>_
    gives run_<tag>_marts …, switched to marts at publication (pipelines/targets/base.py).
    DuckDB builds a file per run instead: no prefix. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ var('schema_prefix', '') }}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
