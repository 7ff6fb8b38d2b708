"""The test-order list names modules that exist: a renamed slow module would silently lose its
place at the front of the queue and stretch `make test`."""

from __future__ import annotations

from pathlib import Path

from conftest import SLOW_MODULES

ROOT = Path(__file__).resolve().parents[1]


def test_every_slow_module_exists() -> None:
    assert [m for m in SLOW_MODULES if not (ROOT / m).is_file()] == []
