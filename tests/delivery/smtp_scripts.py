"""An SMTP server (aiosmtpd) that answers each RCPT from a script: refuse with 4xx or 5xx, or accept (and tell)."""

from __future__ import annotations

import email
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller


class ScriptedMailbox:
    """Replies to RCPT TO in order from ``replies`` (then ``250 OK``); keeps accepted messages."""

    def __init__(self, replies: list[str]) -> None:
        self.replies = list(replies)
        self.rcpt_attempts = 0
        self.messages: list[Message] = []
        self.on_message: Callable[[Message], None] | None = None
        """Called with each message accepted, before the 250 is answered (a test kills its sender here)."""

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        self.rcpt_attempts += 1
        if self.replies:
            return self.replies.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))
        if self.on_message is not None:
            self.on_message(self.messages[-1])
        return "250 OK"


@contextmanager
def scripted_smtp(replies: list[str]) -> Iterator[tuple[ScriptedMailbox, int]]:
    mailbox = ScriptedMailbox(replies)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()
