"""Alembic migrations: ledger core, the 14 frozen Phase 7 revisions, then our additions.

``upgrade(engine)`` / ``downgrade(engine, target)`` / ``current(engine)`` run Alembic without an
alembic.ini so an installed lotline can migrate its own database.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util.exc import CommandError
from sqlalchemy.engine import Engine

from lotline.db import sql
from lotline.errors import InvalidInput

HERE = Path(__file__).parent


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, target: str = "head") -> None:
    """Migrate up to ``target``; InvalidInput naming it when it is no revision of ours."""
    with _known_target(target):
        command.upgrade(alembic_config(engine), target)


def downgrade(engine: Engine, target: str) -> None:
    """Migrate down to ``target`` (drops tables and their data); InvalidInput for an unknown one."""
    with _known_target(target):
        command.downgrade(alembic_config(engine), target)


@contextmanager
def _known_target(target: str) -> Iterator[None]:
    # Alembic resolves the target before it touches the database, so nothing has changed yet.
    try:
        yield
    except (CommandError, RevisionError) as exc:
        raise InvalidInput(
            f"unknown revision {target!r}: give a revision number 0001..{head()}, 'head' or 'base' ({exc})",
            target=target,
        ) from exc


def current(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head() -> str:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    return ScriptDirectory.from_config(cfg).get_current_head()


def sql_text(relative: str) -> str:
    """Text of a migration SQL file, e.g. ``phase7/01_lots.sql``."""
    return resources.files("lotline.db.migrations").joinpath("sql", relative).read_text(encoding="utf-8")


def run_sql(relative: str) -> None:
    """Execute a migration SQL file verbatim: no ':' or '%' parsing, several statements allowed."""
    from alembic import op

    sql.execute(op.get_bind(), sql_text(relative))
