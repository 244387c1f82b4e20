"""Electronic signatures from the command line: ``--sign MEANING`` plus the signer's password.

A signature is the actor's own: run the command as a named user (``lotline --as NAME …`` or
``LOTLINE_USER``); the password is prompted (never echoed) or read from stdin with
``--password-stdin``. Without ``--sign`` a step that needs a signature is refused (InvalidInput).
"""

from __future__ import annotations

import typer

from lotline.auth.schemas import SignatureIn
from lotline.cli.users import read_password
from lotline.errors import InvalidInput

SignOpt = typer.Option(
    None, "--sign", help="Sign this step: approved | reviewed | responsible (your password is asked again)."
)
PasswordStdinOpt = typer.Option(False, "--password-stdin", help="Read the signing password from stdin.")


MEANINGS = ("approved", "reviewed", "responsible")


def signature(meaning: str | None, password_stdin: bool) -> SignatureIn | None:
    if meaning is None:
        return None
    if meaning not in MEANINGS:  # before asking for a password
        raise InvalidInput(f"--sign must be one of {', '.join(MEANINGS)}, not {meaning!r}")
    return SignatureIn(meaning=meaning, password=read_password(password_stdin, "Signing password", confirm=False))
