"""Roles without a live identity provider: the roles file maps users to roles and roles to
pages; the app shows only those pages, a bad file is a message naming the entry, and without a
roles file the demo stays open."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboards.lib import roles

ENTRY = Path(__file__).resolve().parents[2] / "dashboards" / "streamlit_app.py"
FILE = """
default_role = "ops_only"
[roles]
ops_only = ["operations", "data_quality"]
[users]
"CFO@example.com" = "finance"
"lead@example.com" = ["operations", "analyst"]
"""


def _file(tmp_path: Path, text: str = FILE) -> Path:
    path = tmp_path / "roles.toml"
    path.write_text(text)
    return path


def test_users_get_the_union_of_their_roles_pages(tmp_path: Path) -> None:
    mapping = roles.load(_file(tmp_path))
    assert mapping.pages_for("cfo@example.com") == roles.ROLES["finance"]
    assert "margins" in mapping.pages_for(" cfo@EXAMPLE.com ")
    assert mapping.pages_for("lead@example.com") == frozenset(roles.PAGES)
    assert mapping.pages_for("stranger@example.com") == {"operations", "data_quality"}
    assert mapping.pages_for(None) == {"operations", "data_quality"}


def test_without_a_default_role_unknown_users_get_nothing(tmp_path: Path) -> None:
    mapping = roles.load(_file(tmp_path, '[users]\n"a@b.c" = "executive"\n'))
    assert mapping.pages_for("x@y.z") == frozenset()
    assert mapping.pages_for(None) == frozenset()
    assert "data_quality" not in mapping.pages_for("a@b.c")


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('[users]\n"a@b.c" = "owner"\n', "owner"),
        ('[roles]\nx = ["overview", "secrets"]\n', "secrets"),
        ('default_role = "god"\n', "god"),
        ("[users\n", "cannot read"),
    ],
)
def test_a_bad_roles_file_names_the_entry(tmp_path: Path, text: str, named: str) -> None:
    with pytest.raises(roles.RolesFileError, match=named):
        roles.load(_file(tmp_path, text))


def test_the_user_is_the_login_else_the_proxy_header() -> None:
    headers = {"X-Forwarded-Email": "ops@example.com", "Host": "x"}
    assert roles.identify("a@b.c", headers, "x-forwarded-email") == "a@b.c"
    assert roles.identify(None, headers, "x-forwarded-email") == "ops@example.com"
    assert roles.identify(None, headers, None) is None
    assert roles.identify(None, {}, "x-forwarded-email") is None


def test_the_app_shows_only_the_roles_pages(
    warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUBOPS_DASHBOARD_ROLES_FILE", str(_file(tmp_path)))
    at = AppTest.from_file(str(ENTRY), default_timeout=60).run()
    assert not at.exception and not at.error
    assert [t.value for t in at.title] == ["Operations"]  # the first page it may open
    with pytest.raises(ValueError, match="Known pages"):
        at.switch_page("app_pages/margins.py")
    at.switch_page("app_pages/data_quality.py").run()
    assert not at.exception and not at.error


def test_a_bad_roles_file_is_a_message_not_a_traceback(
    warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUBOPS_DASHBOARD_ROLES_FILE", str(_file(tmp_path, 'default_role = "x"\n')))
    at = AppTest.from_file(str(ENTRY), default_timeout=60).run()
    assert not at.exception
    assert at.error and "default_role 'x'" in at.error[0].value
    assert not at.metric


def test_no_roles_file_keeps_the_demo_open(warehouse: Path) -> None:
    at = AppTest.from_file(str(ENTRY), default_timeout=60).run()
    at.switch_page("app_pages/margins.py").run()
    assert not at.exception and at.title[0].value == "Margins"


def test_a_user_without_pages_is_told_how_to_get_them(
    warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "SUBOPS_DASHBOARD_ROLES_FILE", str(_file(tmp_path, '[users]\n"a@b.c" = "finance"\n'))
    )
    at = AppTest.from_file(str(ENTRY), default_timeout=60).run()
    assert not at.exception and not at.metric
    assert "No dashboard pages for this user" in [s.value for s in at.subheader]


def test_with_oidc_settings_the_app_asks_to_log_in(warehouse: Path) -> None:
    at = AppTest.from_file(str(ENTRY), default_timeout=60)
    at.secrets["auth"] = {
        "redirect_uri": "http://localhost:8501/oauth2callback",
        "cookie_secret": "test-only",
        "client_id": "subops",
        "client_secret": "test-only",
        "server_metadata_url": "https://idp.invalid/.well-known/openid-configuration",
    }
    at.run()
    assert not at.exception and not at.metric
    assert "Sign in to see the dashboards" in [s.value for s in at.subheader]
    assert [b.label for b in at.button] == ["Log in"]
