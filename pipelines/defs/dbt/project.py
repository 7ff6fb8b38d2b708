"""The dbt project as Dagster sees it (the manifest is prepared by `pipelines.dbt_project`)."""

from dagster_dbt import DbtProject

from pipelines.paths import DBT_PROJECT_DIR

subops_dbt = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
