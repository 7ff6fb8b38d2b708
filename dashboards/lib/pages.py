"""The dashboard's pages, declared once (no Streamlit here): the navigation, the roles' page
ids, the timing harness and the tests all read this table."""

from __future__ import annotations

#: Every page: id (its URL path, the roles file's name for it) → (section, st.Page arguments).
PAGE_SPECS: dict[str, tuple[str, dict]] = {
    "overview": (
        "Finance",
        {"page": "app_pages/overview.py", "title": "Overview", "icon": ":material/dashboard:"},
    ),
    "revenue": (
        "Finance",
        {"page": "app_pages/revenue.py", "title": "Revenue", "icon": ":material/payments:"},
    ),
    "margins": (
        "Finance",
        {"page": "app_pages/margins.py", "title": "Margins", "icon": ":material/percent:"},
    ),
    "cash": (
        "Finance",
        {"page": "app_pages/cash.py", "title": "Cash", "icon": ":material/account_balance:"},
    ),
    "customers": (
        "Customers",
        {
            "page": "app_pages/customers.py",
            "title": "Customers & retention",
            "icon": ":material/groups:",
        },
    ),
    "account": (
        "Customers",
        {
            "page": "app_pages/account_360.py",
            "title": "Account 360",
            "icon": ":material/person_search:",
        },
    ),
    "operations": (
        "Operations",
        {
            "page": "app_pages/operations.py",
            "title": "Operations",
            "icon": ":material/support_agent:",
        },
    ),
    "risk": (
        "Operations",
        {
            "page": "app_pages/risk.py",
            "title": "Risk & anomalies",
            "icon": ":material/crisis_alert:",
        },
    ),
    "data_quality": (
        "Data",
        {
            "page": "app_pages/data_quality.py",
            "title": "Data quality",
            "icon": ":material/fact_check:",
        },
    ),
}

#: Page ids (URL paths, the roles file's names) in navigation order.
PAGE_IDS: tuple[str, ...] = tuple(PAGE_SPECS)
#: Page scripts as the navigation registers them (`app_pages/<name>.py`), in navigation order.
PAGE_SCRIPTS: tuple[str, ...] = tuple(spec["page"] for _, spec in PAGE_SPECS.values())
