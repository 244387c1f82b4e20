"""Shared EPCIS material (../shared/epcis beside the checkout) and helpers for the EPCIS tests.

Tests that need the shared documents are skipped, loudly (a reason naming the missing folder), only when
that folder is absent — as the Phase 7 spec test does.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _shared_root() -> Path:
    """../shared beside the checkout; for a git worktree, beside the main checkout it belongs to."""
    beside = REPO.parent / "shared"
    dotgit = REPO / ".git"
    if not beside.is_dir() and dotgit.is_file():
        gitdir = Path(dotgit.read_text().split("gitdir:", 1)[-1].strip())
        if len(gitdir.parents) > 2:  # <main>/.git/worktrees/<name>
            return gitdir.parents[2].parent / "shared"
    return beside


SHARED = _shared_root() / "epcis"


def shared_docs(kind: str) -> list[Path]:
    folder = SHARED / kind
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def need_shared() -> None:
    if not SHARED.is_dir():
        pytest.skip(f"EPCIS material not found at {SHARED} (../shared/epcis beside the checkout)")


@pytest.fixture(scope="session")
def gs1_validator():
    """The GS1 EPCIS 2.0 JSON schema as a jsonschema validator with format checking."""
    need_shared()
    import jsonschema

    schema = json.loads((SHARED / "schema" / "EPCIS-JSON-Schema.json").read_text())
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)
