"""Stub of dbt's `adapter` for sqlfluff's jinja templater (lint only)."""

#: Dispatched macros that only set a model's config: they render no SQL.
CONFIG_ONLY = frozenset({"incremental_fact"})
#: Dispatched macros that render a whole query (a CTE's body).
QUERY = frozenset({"billing_history_ranges"})


def dispatch(macro_name, macro_namespace=None):
    def _render(*args, **kwargs):
        if macro_name in QUERY:
            return "select 0 as n"
        return "" if macro_name in CONFIG_ONLY else "0"

    return _render


def get_relation(database=None, schema=None, identifier=None):
    return None


def quote(identifier):
    return '"' + identifier + '"'
