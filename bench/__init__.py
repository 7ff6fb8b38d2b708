"""The benchmark harness behind `subops bench` / `make bench`: how the nightly build scales.

For each company scale it measures the floor (DuckDB counting every landing file's rows), the
full build and each of its Dagster steps (with the build's peak RSS), the nightly build after
one more daily extract, the warehouse's size, every dashboard page's queries, and a plain pandas
script computing MRR and revenue from the same files (timed, and its MRR compared with the
marts). Writes `bench/results/<date>-<host>.json` and `.md`; docs/benchmark.md explains the
columns.

Modules: `company` (generated companies, cached by their arguments), `measure` (timings, the
build as a subprocess, RSS, step durations), `peer` (the pandas peer), `report` (machine facts,
JSON, Markdown, rich tables), `run` (one scale after another)."""
