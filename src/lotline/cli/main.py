"""Root Typer app; each domain registers its commands here with one line."""

from __future__ import annotations

import typer

from lotline.cli import (
    access,
    catalog,
    db,
    demo,
    inventory,
    production,
    recall,
    recall_completion,
    sales,
    serve,
)
from lotline.cli import audit as audit_cli
from lotline.cli import epcis as epcis_cli
from lotline.cli import generate as generate_cli
from lotline.cli import imports as imports_cli
from lotline.cli import kpi as kpi_cli
from lotline.cli import trace as trace_cli
from lotline.cli import users as users_cli
from lotline.cli import worker as worker_cli

app = typer.Typer(
    help="lotline — lot traceability, recalls and inventory KPIs on PostgreSQL.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)



@app.callback()
def root(
    ctx: typer.Context,
    as_user: str | None = typer.Option(
        None,
        "--as",
        envvar="LOTLINE_USER",
        help="Act as this lotline user (checked against their roles; audited under their name). "
        "Without it the actor is your OS login name, marked as such.",
    ),
) -> None:
    access.establish(as_user, access.command_path(ctx.find_root().command, access.argv))


app.add_typer(db.app, name="db")
catalog.register(app)
inventory.register(app)
app.add_typer(production.app, name="wo")
app.add_typer(sales.app, name="so")
app.command("serve")(serve.serve)
app.command("demo")(demo.demo)
recall_completion.register(recall.app)
app.add_typer(recall.app, name="recall")
app.add_typer(trace_cli.app, name="trace")
app.command("generate")(generate_cli.generate)
app.add_typer(kpi_cli.app, name="kpi")
app.command("worker")(worker_cli.worker)
app.add_typer(users_cli.user_app, name="user")
app.add_typer(users_cli.token_app, name="token")
app.command("audit")(audit_cli.audit)
app.add_typer(epcis_cli.app, name="epcis")
app.add_typer(imports_cli.app, name="import")
