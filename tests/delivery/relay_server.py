"""A tenant's own mail relay for tests: a real SMTP server (aiosmtpd) that requires AUTH with one username and
password (in clear text on loopback), keeping every message it accepts and every login it refused."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.mailbox import Inbox


class Credentials:
    """Accepts exactly ``username`` / ``password``; counts the logins it refused."""

    def __init__(self, username: str, password: str) -> None:
        self.username = username
        self.password = password
        self.refused = 0

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == self.username
            and auth_data.password.decode() == self.password
        )
        if not ok:
            self.refused += 1
        # handled=False: the server answers (235 or 535) itself.
        return AuthResult(success=ok, handled=False)


@contextmanager
def relay_requiring_auth(username: str, password: str) -> Iterator[tuple[Inbox, Credentials, int]]:
    """Start an SMTP server on a free port that takes mail only after AUTH as ``username`` / ``password``;
    yield its inbox, its authenticator and its port."""
    inbox = Inbox()
    credentials = Credentials(username, password)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=credentials,
        auth_required=True,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield inbox, credentials, port
    finally:
        controller.stop()
