"""Signed links to a scheduled run's stored CSV: bound to the tenant and the run, valid for a limited time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Final
from uuid import UUID

import msgspec

from delivery.signing import sign, verify

__all__ = ["LINK_LIFETIME", "RunLink", "download_link", "read_link"]

_CONTEXT: Final = b"fieldhub.report-run"
LINK_LIFETIME: Final = timedelta(days=14)


class RunLink(msgspec.Struct, frozen=True, kw_only=True):
    """What a download link carries (``x`` is the expiry in Unix seconds)."""

    t: UUID
    r: UUID
    x: int


def download_link(*, secret: str, public_url: str, tenant_id: UUID, run_id: UUID, now: datetime) -> str:
    """The absolute URL of the run's CSV, good for :data:`LINK_LIFETIME` from ``now``."""
    token = sign(secret, _CONTEXT, RunLink(t=tenant_id, r=run_id, x=int((now + LINK_LIFETIME).timestamp())))
    return f"{public_url.rstrip('/')}/api/v1/reports/runs/{token}/output.csv"


def read_link(secret: str, token: str, *, now: datetime | None = None) -> RunLink | None:
    """The tenant and run of a genuine, unexpired link; ``None`` otherwise."""
    link = verify(secret, _CONTEXT, token, RunLink)
    if link is None or link.x < (now or datetime.now(UTC)).timestamp():
        return None
    return link
