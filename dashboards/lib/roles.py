"""Who sees which page: users map to roles in a TOML roles file, roles map to pages. No
Streamlit here, so the rules are tested without an identity provider.

    # subops-roles.toml (SUBOPS_DASHBOARD_ROLES_FILE)
    default_role = "executive"          # a signed-in user not listed below; omit to deny
    [users]
    "cfo@example.com" = ["finance"]
    "ops@example.com" = ["operations", "analyst"]
    [roles]                             # optional: replace a built-in role's pages
    finance = ["overview", "revenue", "margins", "cash", "account", "risk", "data_quality"]

Without a roles file every page is shown (the open demo). The user is whoever `st.login` (OIDC)
signed in, or the e-mail an authenticating proxy puts in `SUBOPS_DASHBOARD_USER_HEADER`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dashboards.lib.pages import PAGE_IDS

#: Every page id (the `url_path` of its st.Page), in navigation order.
PAGES: tuple[str, ...] = PAGE_IDS
#: The built-in roles and the pages each may open.
ROLES: dict[str, frozenset[str]] = {
    "executive": frozenset(
        {"overview", "revenue", "margins", "cash", "customers", "account", "operations", "risk"}
    ),
    "finance": frozenset(
        {"overview", "revenue", "margins", "cash", "account", "risk", "data_quality"}
    ),
    "operations": frozenset(
        {"overview", "customers", "account", "operations", "risk", "data_quality"}
    ),
    "analyst": frozenset(PAGES),
}


class RolesFileError(ValueError):
    """The roles file cannot be used; the message names the file, the entry and the fix."""


@dataclass(frozen=True)
class RoleMap:
    """A parsed roles file: users (lower-cased e-mails) → roles, roles → pages."""

    users: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    roles: Mapping[str, frozenset[str]] = field(default_factory=lambda: dict(ROLES))
    default_role: str | None = None

    def pages_for(self, user: str | None) -> frozenset[str]:
        """The pages `user` may open: the union of their roles' pages; an unlisted or unknown
        user gets the default role's pages, or none."""
        names = self.users.get(user.strip().lower(), ()) if user else ()
        if not names and self.default_role:
            names = (self.default_role,)
        return frozenset().union(*(self.roles[n] for n in names)) if names else frozenset()


def load(path: Path) -> RoleMap:
    """Parse and check a roles file; every error names the entry and what to write instead."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise RolesFileError(f"{path}: cannot read the roles file ({err})") from err
    roles = dict(ROLES)
    for name, pages in (data.get("roles") or {}).items():
        unknown = set(pages) - set(PAGES) if isinstance(pages, list) else {"(not a list)"}
        if unknown:
            raise RolesFileError(
                f"{path}: [roles] {name} lists {sorted(unknown)}; pages are {', '.join(PAGES)}"
            )
        roles[name] = frozenset(pages)
    users: dict[str, tuple[str, ...]] = {}
    for user, names in (data.get("users") or {}).items():
        names = [names] if isinstance(names, str) else names
        unknown = [n for n in names if n not in roles]
        if unknown:
            raise RolesFileError(
                f"{path}: [users] {user!r} has unknown roles {unknown}; roles are "
                f"{', '.join(sorted(roles))}"
            )
        users[user.strip().lower()] = tuple(names)
    default = data.get("default_role")
    if default is not None and default not in roles:
        raise RolesFileError(
            f"{path}: default_role {default!r} is not a role; roles are {', '.join(sorted(roles))}"
        )
    return RoleMap(users, roles, default)


def identify(
    logged_in_email: str | None, headers: Mapping[str, str], header: str | None
) -> str | None:
    """The user: the OIDC login's e-mail, else the proxy header's value, else nobody."""
    if logged_in_email:
        return logged_in_email
    if header:
        wanted = header.lower()
        for key, value in headers.items():
            if key.lower() == wanted and value.strip():
                return value.strip()
    return None
