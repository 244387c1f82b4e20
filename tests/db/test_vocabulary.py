"""lotline.vocab holds exactly the values the database's CHECK constraints allow, and names every
constrained column: a value added on one side only (a migration or an enum) fails here."""

from __future__ import annotations

import re

import sqlalchemy as sa

from lotline import vocab

# one-column CHECK constraints of the form  col = ANY (ARRAY['a'::text, ...])  (NULL allowed or not)
LISTED_VALUES = sa.text(
    """
    SELECT c.conrelid::regclass::text AS tbl, a.attname AS col, c.conname AS name,
           pg_get_constraintdef(c.oid) AS definition
    FROM pg_constraint c
    JOIN pg_namespace n ON n.oid = c.connamespace AND n.nspname = 'public'
    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
    WHERE c.contype = 'c' AND c.conrelid <> 0 AND cardinality(c.conkey) = 1
      AND pg_get_constraintdef(c.oid) LIKE '%= ANY (ARRAY[%'
    ORDER BY 1, 2
    """
)


def _constrained_values(session) -> dict[tuple[str, str], list[str]]:
    out = {}
    for row in session.execute(LISTED_VALUES):
        out[(row.tbl, row.col)] = re.findall(r"'((?:[^']|'')*)'::", row.definition)
    return out


def test_every_enum_equals_the_values_of_its_check_constraint(session):
    checked = _constrained_values(session)
    mismatched = {
        where: (sorted(checked.get(where, [])), sorted(e.value for e in enum))
        for where, enum in vocab.CHECKED_COLUMNS.items()
        if sorted(checked.get(where, [])) != sorted(e.value for e in enum)
    }
    assert mismatched == {}, "(table, column): (database values, enum values)"


def test_every_constrained_column_has_its_enum(session):
    assert sorted(set(_constrained_values(session)) - set(vocab.CHECKED_COLUMNS)) == []


def test_enum_members_bind_and_compare_as_their_text(session):
    stored = session.execute(
        sa.text("SELECT CAST(:s AS text) = 'quarantine', CAST(:s AS text)"), {"s": vocab.LotStatus.QUARANTINE}
    ).one()
    assert stored == (True, "quarantine")
    assert vocab.LotStatus.QUARANTINE == "quarantine" and f"{vocab.LotStatus.QUARANTINE}" == "quarantine"
