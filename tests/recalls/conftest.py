"""Recall test fixtures: the hand-built recall world (``tests.worlds.build_world``, whose docstring
draws it and its known answers), a local SMTP server, a TLS certificate."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from aiosmtpd.controller import Controller

from tests.smtp import Inbox, free_port
from tests.worlds import World, build_world


@pytest.fixture
def world(session) -> World:
    return build_world(session)


@pytest.fixture
def smtp(monkeypatch):
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("LOTLINE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("LOTLINE_SMTP_PORT", str(port))
    monkeypatch.setenv("LOTLINE_SMTP_SECURITY", "none")
    monkeypatch.setenv("LOTLINE_SMTP_FROM", "recalls@bakery.example")
    yield inbox
    controller.stop()


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory):
    """(certificate, key) of a self-signed server certificate for 127.0.0.1, made with openssl."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed: no test certificate for the TLS tests")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key
