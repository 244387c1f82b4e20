"""db.sql.array_literal: a list bound as one array literal reads back, element for element, as the
same list bound the usual way (psycopg dumping each element) — NULLs, quotes, backslashes, braces,
commas, the word NULL as text, times with their zone, decimals with their scale."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import StrEnum

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lotline.db import sql

_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)
_CASES = [
    ("uuid[]", st.uuids()),
    ("text[]", _TEXT | st.sampled_from(["NULL", "null", "", " ", "{", "}", ",", '"', "\\", "a b", "\\\"x\""])),
    ("int[]", st.integers(-(2**31), 2**31 - 1)),
    ("numeric[]", st.decimals(allow_nan=False, allow_infinity=False, places=6, min_value=-10**12, max_value=10**12)
     | st.sampled_from([Decimal("1E+3"), Decimal("-0"), Decimal("0.000000"), Decimal("480.000000"), Decimal("NaN")])),
    ("boolean[]", st.booleans()),
    ("date[]", st.dates(min_value=date(1900, 1, 1), max_value=date(9899, 12, 31))),
    ("timestamptz[]", st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(9899, 12, 31),
                                   timezones=st.sampled_from([UTC, timezone(timedelta(hours=-5, minutes=-30))]))),
]


def _both(session, cast: str, values: list) -> tuple[list, list]:
    statement = f"SELECT %(a)s::{cast} AS a, %(b)s::{cast} AS b"
    row = sql.one(session, statement, {"a": sql.array_literal(values), "b": values})
    return row.a, row.b


@pytest.mark.parametrize(("cast", "elements"), _CASES, ids=[c for c, _ in _CASES])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_literal_reads_back_as_the_list_psycopg_would_send(session, cast, elements, data):
    values = data.draw(st.lists(st.none() | elements, max_size=8))
    literal, dumped = _both(session, cast, values)
    assert [repr(v) for v in literal] == [repr(v) for v in dumped]  # repr: a decimal's scale, a time's zone
    if values:  # and the values themselves (psycopg's round trip is the reference; here the literal's)
        assert [v is None for v in literal] == [v is None for v in values]


def test_an_empty_list_is_an_empty_array(session):
    assert _both(session, "uuid[]", []) == ([], [])


def test_a_subclass_is_written_as_its_base_and_an_unknown_type_is_refused():
    class Kind(StrEnum):
        A = 'a"b'

    assert sql.array_literal([Kind.A, True, 3]) == '{"a\\"b",t,3}'
    with pytest.raises(TypeError, match="float"):
        sql.array_literal([1.5])


def test_parameters_with_lists_become_literals_and_the_rest_stays():
    u = uuid.uuid4()
    assert sql.with_array_literals({"ids": [u, None], "n": 3, "t": ("x",)}) == {"ids": f"{{{u},NULL}}", "n": 3, "t": '{"x"}'}
