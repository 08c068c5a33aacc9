"""A real SMTP server (aiosmtpd) for tests, keeping every message it receives."""

from __future__ import annotations

import asyncio
import email
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller


class Inbox:
    """Messages received by the SMTP server, with a way to wait for the next one."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"

    async def wait_for(self, to: str, timeout: float = 10.0) -> Message:
        async with asyncio.timeout(timeout):
            while True:
                for message in self.messages:
                    if message["To"] == to:
                        return message
                await asyncio.sleep(0.02)


@contextmanager
def running_smtp_server() -> Iterator[tuple[Inbox, int]]:
    """Start an SMTP server on a free port; yield its inbox and port."""
    inbox = Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()
