"""A local SMTP server (aiosmtpd, on loopback) that keeps what partners would receive: the real
smtplib client of integrations/mail.py talks SMTP to it. `refuse(address)` makes it refuse a
recipient with 550, as a real server does for an unknown mailbox."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller


class _Keep:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.refused: set[str] = set()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:  # noqa: N802
        if address in self.refused:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # headers unfolded
        return "250 Message accepted for delivery"


class FakeSMTP:
    def __init__(self) -> None:
        with socket.socket() as probe:  # a free port on loopback
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._keep = _Keep()
        self._controller = Controller(self._keep, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    @property
    def messages(self) -> list[Message]:
        return self._keep.messages

    def refuse(self, address: str) -> None:
        self._keep.refused.add(address)

    def subjects(self, to: str | None = None) -> list[str]:
        return [str(m["Subject"]).strip() for m in self.messages if to is None or str(m["To"]).strip() == to]

    def close(self) -> None:
        self._controller.stop()


def fake_smtp() -> Iterator[FakeSMTP]:
    fake = FakeSMTP()
    try:
        yield fake
    finally:
        fake.close()
