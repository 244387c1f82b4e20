"""A hand-built world with known recall answers.

    FLOUR F-1 (100 kg, received day 0) --WO-1 day 1 (40 kg)--> BREAD B-1 (80 ea)
                                       \\-WO-2 day 3 (20 kg)--> CAKE C-1 (50 ea) <-- SUGAR S-1 (10 kg)
    FLOUR F-2 (100 kg)                 --WO-3 day 1 (40 kg)--> BREAD B-2 (80 ea)
    SALT (untracked, 20 kg)

    SO-1 ALPHA  BREAD 30 from B-1 (day 2)      SO-2 BETA  CAKE 20 from C-1 (day 4)
    SO-3 GAMMA  BREAD 10 from B-2 (day 2)      SO-4 DELTA FLOUR 5 from F-1 (day 2)
    SO-5 GAMMA  SALT 3 (day 2)

A recall of F-1 (now) reaches ALPHA, BETA and DELTA — never GAMMA; lots F-1 (target), B-1 and C-1
(downstream). On hand afterwards: F-1 35 kg, B-1 50 ea, C-1 30 ea, all at WH1.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
from dataclasses import dataclass
from decimal import Decimal
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller

from lotline.inventory import service as inventory
from lotline.inventory.schemas import ReceiptIn
from lotline.models import Customer, Item, Location, Lot
from tests.builders import (
    at,
    execute,
    make_customer,
    make_item,
    make_location,
    make_vendor,
    order,
    receive,
    ship,
)


@dataclass
class World:
    items: dict[str, Item]
    lots: dict[str, Lot]
    customers: dict[str, Customer]
    wh: Location
    qa: Location
    scrap: Location


def build_world(session) -> World:
    flour = make_item(session, "FLOUR", name="Wheat flour T55")
    sugar = make_item(session, "SUGAR", name="Cane sugar")
    bread = make_item(session, "BREAD", name="Sourdough bread", uom="ea")
    cake = make_item(session, "CAKE", name="Sponge cake", uom="ea")
    salt = make_item(session, "SALT", name="Sea salt", lot_tracked=False)
    wh = make_location(session, "WH1")
    qa = make_location(session, "QA", kind="quarantine")
    scrap = make_location(session, "SCRAP", kind="scrap")
    make_vendor(session)
    customers = {c: make_customer(session, c) for c in ("ALPHA", "BETA", "GAMMA", "DELTA")}
    lots = {
        "F-1": receive(session, flour, wh, "F-1", 100, vendor_lot_code="MILL-77"),
        "F-2": receive(session, flour, wh, "F-2", 100),
        "S-1": receive(session, sugar, wh, "S-1", 50),
    }
    inventory.receive(
        session,
        ReceiptIn(
            vendor="MILL",
            occurred_at=at(),
            lines=[{"item": "SALT", "location": "WH1", "quantity": Decimal(20)}],
        ),
    )
    execute(session, "WO-1", bread, [(flour, wh, 40, [("F-1", 40)])], [(wh, 80, "B-1")], when=at(1))
    execute(session, "WO-3", bread, [(flour, wh, 40, [("F-2", 40)])], [(wh, 80, "B-2")], when=at(1))
    execute(
        session,
        "WO-2",
        cake,
        [(flour, wh, 20, [("F-1", 20)]), (sugar, wh, 10, [("S-1", 10)])],
        [(wh, 50, "C-1")],
        when=at(3),
    )
    order(session, "SO-1", customers["ALPHA"], [(bread, 30, None)])
    ship(session, "SO-1", [(1, wh, 30, [("B-1", 30)])], when=at(2))
    order(session, "SO-3", customers["GAMMA"], [(bread, 10, None)])
    ship(session, "SO-3", [(1, wh, 10, [("B-2", 10)])], when=at(2))
    order(session, "SO-4", customers["DELTA"], [(flour, 5, None)])
    ship(session, "SO-4", [(1, wh, 5, [("F-1", 5)])], when=at(2))
    order(session, "SO-5", customers["GAMMA"], [(salt, 3, None)])
    ship(session, "SO-5", [(1, wh, 3, None)], when=at(2))
    order(session, "SO-2", customers["BETA"], [(cake, 20, None)])
    ship(session, "SO-2", [(1, wh, 20, [("C-1", 20)])], when=at(4))
    from lotline.lots import service as lots_service

    for code in ("B-1", "B-2", "C-1"):
        lots[code] = lots_service.find_lot(session, code)
    return World(
        items={"FLOUR": flour, "SUGAR": sugar, "BREAD": bread, "CAKE": cake, "SALT": salt},
        lots=lots,
        customers=customers,
        wh=wh,
        qa=qa,
        scrap=scrap,
    )


@pytest.fixture
def world(session) -> World:
    return build_world(session)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """aiosmtpd handler: keeps what it accepts; refuses recipients listed in ``refuse``."""

    def __init__(self) -> None:
        self.messages: list = []
        self.encrypted: list[bool] = []  # per message: did it arrive over TLS
        self.refuse: set[str] = set()
        self.recipients: list[list[str]] = []  # per message: the envelope's RCPT TO addresses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content))
        self.recipients.append(list(envelope.rcpt_tos))
        self.encrypted.append(server.transport.get_extra_info("ssl_object") is not None)
        return "250 Message accepted for delivery"


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
