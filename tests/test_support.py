"""The no-half-writes helper must itself be able to fail."""

from __future__ import annotations

import pytest

from lotline.errors import InvalidInput
from lotline.models import Location
from tests.support import database_state, refused_without_writes


def test_refused_without_writes_detects_a_write_that_survived_the_refusal(session):
    with (
        pytest.raises(AssertionError, match="left writes behind.*locations"),
        refused_without_writes(session, InvalidInput),
    ):
        # Written outside the refused transaction, so it survives the rollback: must be flagged.
        session.add(Location(code="LEAK", name="Leak", kind="storage"))
        session.flush()
        raise InvalidInput("refused")


def test_refused_without_writes_fails_when_nothing_is_refused(session):
    with (
        pytest.raises(pytest.fail.Exception, match="DID NOT RAISE"),
        refused_without_writes(session, InvalidInput),
    ):
        pass


def test_database_state_sees_updates_not_only_inserts(session):
    loc = Location(code="A", name="A", kind="storage")
    session.add(loc)
    session.flush()
    before = database_state(session)
    loc.name = "B"
    session.flush()
    assert database_state(session)["locations"] != before["locations"]
