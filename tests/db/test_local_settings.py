"""db.local_settings: server settings for the statements of a block only, put back afterwards."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from lotline.db import local_settings


def _settings(session):
    return session.connection().exec_driver_sql(
        "SELECT current_setting('work_mem'), current_setting('enable_mergejoin')"
    ).one()


def test_settings_hold_inside_the_block_and_the_previous_values_come_back(session):
    session.connection().exec_driver_sql("SET LOCAL work_mem = '5MB'")
    before = _settings(session)
    assert before[0] == "5MB"
    with local_settings(session, work_mem="77MB", enable_mergejoin="off"):
        assert tuple(_settings(session)) == ("77MB", "off")
    assert _settings(session) == before


def test_the_previous_values_come_back_when_the_block_raises(session):
    before = _settings(session)
    with pytest.raises(RuntimeError), local_settings(session, work_mem="77MB"):
        raise RuntimeError("the block failed")
    assert _settings(session) == before


def test_an_unknown_setting_is_refused_before_the_block_runs(session):
    ran = []
    with pytest.raises(sa.exc.DBAPIError, match="no_such_setting"), local_settings(session, no_such_setting="1"):
        ran.append(True)
    assert ran == []
