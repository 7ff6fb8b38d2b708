"""Generate small companies once per session (scale 0.05, a short period) for all tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.generate import GenerateResult, generate

from .helpers import SMALL


@pytest.fixture(scope="session")
def clean(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerateResult]:
    out = tmp_path_factory.mktemp("clean") / "landing"
    return out, generate(out, **SMALL)


@pytest.fixture(scope="session")
def dirty(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerateResult]:
    out = tmp_path_factory.mktemp("dirty") / "landing"
    return out, generate(out, **SMALL, bad_rows=0.01)


@pytest.fixture(scope="session")
def company(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerateResult]:
    """A bigger company over the default period, for statistics."""
    out = tmp_path_factory.mktemp("stats") / "landing"
    return out, generate(out, scale=0.3, seed=11)
