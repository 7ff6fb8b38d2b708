"""The job also works while the dbt project is a shell (no models): raw, checks and
publication run without dbt assets. Fast: dbt is left out of the graph."""

from __future__ import annotations

import contextlib
import json

import pytest
from landing_fixture import write_clean

from pipelines.defs.dbt.assets import has_dbt_nodes
from pipelines.run.build import run_build
from pipelines.settings import get_settings
from pipelines.warehouse.readonly import connect_readonly


def test_shell_manifest_has_no_dbt_nodes(tmp_path):
    shell = tmp_path / "manifest.json"
    shell.write_text(json.dumps({"nodes": {}, "sources": {}}))
    assert not has_dbt_nodes(shell)
    full = tmp_path / "full.json"
    full.write_text(json.dumps({"nodes": {"model.subops.x": {"resource_type": "model"}}}))
    assert has_dbt_nodes(full)


def test_build_without_dbt_models_publishes(tmp_path, monkeypatch: pytest.MonkeyPatch):
    import pipelines.definitions as definitions

    monkeypatch.setattr(definitions, "build_dbt_assets", lambda: [])
    s = get_settings(landing_dir=tmp_path / "landing", warehouse_dir=tmp_path / "wh")
    write_clean(s.landing_dir)
    messages: list[str] = []
    r = run_build(s, progress=messages.append)
    assert r.published, r.failure_reason
    assert any("raw__crm__accounts" in m for m in messages), messages
    with contextlib.closing(connect_readonly(s.current_warehouse)) as con:
        assert con.execute("SELECT count(*) FROM raw.crm__accounts").fetchall() == [(2,)]
