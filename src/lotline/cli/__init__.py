"""The ``lotline`` command line: thin commands over the services, one transaction per command."""

from __future__ import annotations

import sys

from pydantic import ValidationError

from lotline import errors


def main(argv: list[str] | None = None) -> None:
    """Console entry point; domain errors go to stderr with the exit code of cli.common.EXIT_CODES."""
    from lotline.cli import access
    from lotline.cli.common import report_error
    from lotline.cli.main import app

    access.argv = list(sys.argv[1:] if argv is None else argv)
    try:
        app(args=argv, prog_name="lotline")
    except (errors.LotlineError, ValidationError) as exc:
        sys.exit(report_error(exc))
    except OSError as exc:
        if exc.filename is None:  # not about a file the user named (a socket, the OS): a bug to show
            raise
        # --input, --out, --svg, --out-dir: a path that cannot be read or written is bad input
        sys.exit(report_error(errors.InvalidInput(f"cannot use {exc.filename!r}: {exc.strerror}")))
