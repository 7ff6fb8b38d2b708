"""The warehouse on disk: build files and their DDL, audit tables, publication, read-only
access. Storage only: nothing here imports Dagster or the definitions (tests/
test_import_direction.py); running a build is `pipelines.run`."""
