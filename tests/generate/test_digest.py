"""The generator's output is pinned: every file of a few small companies (landing folder and truth
manifest) has the digest recorded in tests/fixtures/generate_digests.json. A refactoring must
keep them; an intended change of the company records new ones (`python -m
tests.generate.digest`, see digest.py) and says why in its commit."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.generate import generate

from .digest import CONFIGS, company_digests, expected

#: configurations the session fixtures of conftest.py already generate
FROM_FIXTURES = {"clean", "dirty", "company"}


def _landing(name: str, request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    if name in FROM_FIXTURES:
        return request.getfixturevalue(name)[0]
    out = tmp_path / "landing"
    generate(out, **CONFIGS[name])
    return out


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_generated_files_are_unchanged(name: str, request: pytest.FixtureRequest, tmp_path: Path):
    want = expected()[name]
    got = company_digests(_landing(name, request, tmp_path))
    missing = sorted(want.keys() - got.keys())
    extra = sorted(got.keys() - want.keys())
    changed = sorted(k for k in want.keys() & got.keys() if want[k] != got[k])
    assert not (missing or extra or changed), (
        f"{name}: the generated company changed: {len(changed)} files differ {changed[:5]}, "
        f"missing {missing[:5]}, new {extra[:5]}; if intended, run `python -m "
        f"tests.generate.digest` and say why in the commit"
    )


def test_configurations_are_pinned():
    assert sorted(expected()) == sorted(CONFIGS)
