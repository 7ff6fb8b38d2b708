"""Settings: defaults work with nothing set; env and subops.toml override; flags win."""

from pathlib import Path

from pipelines.settings import Settings, get_settings


def test_defaults(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    s = Settings()
    assert s.landing_dir == Path("data/landing")
    assert s.current_warehouse == Path("data/warehouse/current.duckdb")
    assert s.reporting_currency == "USD"
    assert str(s.support_cost_per_minute) == "1.50"


def test_precedence_flags_over_env_over_toml(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "subops.toml").write_text('landing_dir = "from_toml"\nreporting_currency = "EUR"\n')
    assert Settings().landing_dir == Path("from_toml")
    assert Settings().reporting_currency == "EUR"
    monkeypatch.setenv("SUBOPS_LANDING_DIR", "from_env")
    assert Settings().landing_dir == Path("from_env")
    assert get_settings(landing_dir=Path("from_flag")).landing_dir == Path("from_flag")
    assert get_settings(landing_dir=None).landing_dir == Path("from_env")
