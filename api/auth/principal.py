"""Who is making a request: the signed-in user with the permissions of all their roles."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

import msgspec

AuthMethod = Literal["cookie", "bearer"]


class CurrentUser(msgspec.Struct, frozen=True, kw_only=True):
    """The authenticated user of one request, resolved from their session."""

    id: UUID
    tenant_id: UUID
    session_id: UUID
    email: str
    name: str
    roles: tuple[str, ...]
    permissions: frozenset[str]
    via: AuthMethod
    expires_at: datetime

    def can(self, permission: str) -> bool:
        return permission in self.permissions
