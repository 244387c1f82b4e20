"""``lotline worker``: the scheduled jobs (reminders, status reports, lot expiry, drill reminder)."""

from __future__ import annotations

import typer

from lotline.cli.common import JsonOpt, console, print_json


def worker(
    once: bool = typer.Option(False, "--once", help="Run one pass of every job and exit (for cron or a check)."),
    as_json: bool = JsonOpt,
) -> None:
    """Run the scheduled jobs on the PostgreSQL job queue until stopped (Ctrl-C / SIGTERM)."""
    from lotline import worker as worker_mod  # noqa: PLC0415 — procrastinate loads only for this command

    if once:
        result = worker_mod.run_once()
        if as_json:
            print_json(result)
        else:
            for name, outcome in result.items():
                console.print(f"[bold]{name}[/]: {outcome}")
        return
    console.print("lotline worker: jobs expire_lots, recall_reminders, recall_status_reports, drill_reminder "
                  "(Ctrl-C to stop)")
    worker_mod.run_worker()
