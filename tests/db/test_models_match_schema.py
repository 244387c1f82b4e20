"""The ORM mappings mirror the migrated schema: every mapped table and column exists, with the same
nullability, and no column of a mapped table is left unmapped (a column added by a migration but
not to the model, or the reverse, fails here rather than at the first INSERT)."""

from __future__ import annotations

import sqlalchemy as sa

from lotline.models import Base


def test_every_mapped_table_matches_its_migrated_columns(engine):
    inspector = sa.inspect(engine)
    mismatches = []
    for table in Base.metadata.sorted_tables:
        db_columns = {c["name"]: c for c in inspector.get_columns(table.name)}
        assert db_columns, f"{table.name} is mapped but not migrated"
        mapped = {c.name: c for c in table.columns}
        if set(mapped) != set(db_columns):
            mismatches.append(
                f"{table.name}: only mapped {sorted(set(mapped) - set(db_columns))}, "
                f"only migrated {sorted(set(db_columns) - set(mapped))}"
            )
            continue
        for name, column in mapped.items():
            # server defaults may make a NOT NULL column optional for the mapping; the reverse
            # (a mapping that promises a value the database may lack) is the mismatch that matters
            if db_columns[name]["nullable"] and not column.nullable:
                mismatches.append(f"{table.name}.{name}: NULL in the database, not in the mapping")
    assert mismatches == []
