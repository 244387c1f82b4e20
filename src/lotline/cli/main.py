"""Root Typer app; each domain registers its commands here with one line."""

from __future__ import annotations

import typer

from lotline.cli import catalog, db, demo, inventory, production, recall, recall_completion, sales, serve
from lotline.cli import generate as generate_cli
from lotline.cli import kpi as kpi_cli
from lotline.cli import trace as trace_cli
from lotline.cli import worker as worker_cli

app = typer.Typer(
    help="lotline — lot traceability, recalls and inventory KPIs on PostgreSQL.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

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
