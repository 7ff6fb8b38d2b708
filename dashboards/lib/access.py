"""Sign-in and page access for the app shell (Streamlit side of `roles`).

* OIDC configured (an `[auth]` section in `.streamlit/secrets.toml`): `st.login` is required and
  a "Log out" button sits in the sidebar.
* A roles file (`SUBOPS_DASHBOARD_ROLES_FILE`): the user's roles decide the pages; a user with no
  page gets a screen saying who they are signed in as and how to be granted one.
* Neither: the open demo, every page.
"""

from __future__ import annotations

import streamlit as st

from dashboards.lib import roles
from pipelines.settings import get_settings


def _oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except (FileNotFoundError, KeyError):  # no secrets file at all
        return False


def _login_screen() -> None:
    st.title("subops")
    st.subheader("Sign in to see the dashboards")
    st.button("Log in", on_click=st.login, type="primary", icon=":material/login:")
    st.stop()


def _denied_screen(user: str | None, source: str) -> None:
    st.title("subops")
    st.subheader("No dashboard pages for this user")
    who = f"You are signed in as **{user}**" if user else "No signed-in user was recognized"
    st.write(
        f"{who}, and the roles file `{source}` gives no role with pages to it. Ask an "
        "administrator to add you under `[users]` (or to set `default_role`)."
    )
    st.stop()


def allowed_pages() -> frozenset[str] | None:
    """The page ids this session may open (None: all); stops the run with a screen when the
    user must sign in or has no page."""
    settings = get_settings()
    email = None
    if _oidc_configured():
        if not st.user.get("is_logged_in"):
            _login_screen()
        email = st.user.get("email")
        st.sidebar.button("Log out", on_click=st.logout, icon=":material/logout:")
    if settings.dashboard_roles_file is None:
        return None
    try:
        mapping = roles.load(settings.dashboard_roles_file)
    except roles.RolesFileError as err:
        st.error(str(err), icon=":material/error:")
        st.stop()
    user = roles.identify(
        email if isinstance(email, str) else None,
        dict(st.context.headers or {}),
        settings.dashboard_user_header,
    )
    allowed = mapping.pages_for(user)
    if not allowed:
        _denied_screen(user, str(settings.dashboard_roles_file))
    if user:
        st.sidebar.caption(f"Signed in as {user}")
    return allowed
