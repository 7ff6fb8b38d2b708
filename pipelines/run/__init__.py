"""A build run in this process: `run_build` executes the Dagster job the definitions define,
shows its progress and summarises what it did. The layer above the definitions; storage
(`pipelines.warehouse`) never imports it."""
