"""Dagster definitions by domain. Thin: every asset calls plain functions of `pipelines.ingest`
and `pipelines.warehouse`, which tests call directly."""
