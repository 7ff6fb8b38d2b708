"""subops as a service (`subops serve`): the process supervisor, alerts, the freshness check
and the run history operators read. No Dagster here: the daemon's sensors (pipelines.defs)
and the in-process build (pipelines.run) both call these plain functions."""
