"""``lotline db``: migrate the configured database."""

from __future__ import annotations

import typer

from lotline.cli.common import console
from lotline.db import get_engine, migrations

app = typer.Typer(help="Database schema: upgrade, current revision, downgrade.", no_args_is_help=True)


@app.command()
def upgrade(target: str = typer.Argument("head", help="Revision to upgrade to.")) -> None:
    """Create or upgrade the schema (idempotent)."""
    engine = get_engine()
    before = migrations.current(engine)
    migrations.upgrade(engine, target)
    after = migrations.current(engine)
    if before == after:
        console.print(f"database already at revision {after}")
    else:
        console.print(f"database upgraded from {before or 'empty'} to {after}")


@app.command()
def current() -> None:
    """Print the schema revision of the database (and the newest one this lotline knows)."""
    engine = get_engine()
    rev = migrations.current(engine)
    head = migrations.head()
    state = "up to date" if rev == head else "run `lotline db upgrade`"
    console.print(f"{rev or 'empty'} (head {head}: {state})")


@app.command()
def downgrade(target: str = typer.Argument(..., help="Revision to go back to, e.g. 0015 or base.")) -> None:
    """Go back to an earlier revision (development only: drops tables and their data)."""
    engine = get_engine()
    migrations.downgrade(engine, target)
    console.print(f"database now at revision {migrations.current(engine) or 'empty'}")
