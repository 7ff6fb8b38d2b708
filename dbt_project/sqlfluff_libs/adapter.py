"""Stub of dbt's `adapter` for sqlfluff's jinja templater (lint only)."""

#: Dispatched macros that only set a model's config: they render no SQL.
CONFIG_ONLY = frozenset({"incremental_fact"})


def dispatch(macro_name, macro_namespace=None):
    def _render(*args, **kwargs):
        return "" if macro_name in CONFIG_ONLY else "0"

    return _render


def get_relation(database=None, schema=None, identifier=None):
    return None


def quote(identifier):
    return '"' + identifier + '"'
