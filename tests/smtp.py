"""A local SMTP server for the tests that send mail: an aiosmtpd handler keeping what it accepts."""

from __future__ import annotations

import socket
from email import message_from_bytes


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
