"""Request and response bodies of the mail relay endpoints; the password goes in, never out."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from msgspec import UNSET, UnsetType

from api.schemas import RequestBody, ResponseBody
from delivery.relays import RelaySecurity
from persistence.models import MailRelay

Host = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=253,
        pattern=r"^[A-Za-z0-9.\-:\[\]]+$",
        description="The relay's host name or IP address, e.g. ``smtp.example.com``.",
    ),
]
Port = Annotated[int, msgspec.Meta(ge=1, le=65535, description="587 for STARTTLS, 465 for implicit TLS, 25 plain.")]
Username = Annotated[str, msgspec.Meta(min_length=1, max_length=255, pattern=r"^[^\r\n]+$")]
Password = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=512,
        pattern=r"^[^\r\n]+$",
        description="Write-only: sealed at rest, never returned (responses say ``password_set``).",
    ),
]
FromAddress = Annotated[str, msgspec.Meta(min_length=3, max_length=254, description="The ``From`` address.")]
FromName = Annotated[
    str, msgspec.Meta(min_length=1, max_length=200, pattern=r"^[^\r\n]+$", description="The ``From`` display name.")
]


class MailRelayUpdate(RequestBody):
    """The whole relay. ``password`` omitted keeps the stored one, ``null`` removes it (no login);
    ``username`` and a password go together."""

    host: Host
    port: Port
    from_address: FromAddress
    security: RelaySecurity = "starttls_required"
    username: Username | None = None
    password: Password | UnsetType | None = UNSET
    from_name: FromName | None = None


class MailRelayResponse(ResponseBody):
    """The relay as stored, but for its password: ``password_set`` says whether one is."""

    host: str
    port: int
    security: RelaySecurity
    password_set: bool
    from_address: str
    updated_at: datetime
    username: str | None = None
    from_name: str | None = None


class TestMailSent(ResponseBody):
    """The relay accepted the test mail for ``to`` (the caller's address)."""

    to: str
    relay: str


def mail_relay_response(row: MailRelay) -> MailRelayResponse:
    return MailRelayResponse(
        host=row.host,
        port=row.port,
        security=row.security,  # type: ignore[arg-type]  # kept to the four by the table's check
        password_set=row.password_sealed is not None,
        from_address=row.from_address,
        updated_at=row.updated_at,
        username=row.username,
        from_name=row.from_name,
    )
