"""Loading landing extracts into the warehouse's `raw` schema, validated against the contract.

Plain functions (no Dagster): the Dagster assets in `pipelines/defs/ingest/` call them, and so
do the tests.
"""
