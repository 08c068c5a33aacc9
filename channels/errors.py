"""Chat's refusals: one exception with a stable code that HTTP routes and frame handlers both translate."""

from __future__ import annotations

from typing import Literal

ChatErrorCode = Literal[
    "not_found",
    "forbidden",
    "archived",
    "invalid_message",
    "message_too_long",
    "invalid_thread",
    "invalid_emoji",
    "invalid_members",
    "invalid_name",
    "already_member",
    "not_member",
    "mention_not_allowed",
    "invalid_attachment",
    "conflict",
    "blocked_by_rule",
    "muted",
    "invalid_rule",
    "already_flagged",
    "already_appealed",
    "claimed",
    "unavailable",
]

_STATUS: dict[str, int] = {
    "not_found": 404,
    "forbidden": 403,
    "archived": 409,
    "already_member": 409,
    "conflict": 409,
    "not_member": 403,
    "mention_not_allowed": 403,
    "message_too_long": 422,
    "muted": 403,
    "already_flagged": 409,
    "already_appealed": 409,
    "claimed": 409,
    "unavailable": 503,
}


class ChatError(Exception):
    """A chat rule said no. ``code`` is stable and documented; nothing was written."""

    def __init__(self, code: ChatErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def status_code(self) -> int:
        """The HTTP status this refusal maps to (422 unless listed)."""
        return _STATUS.get(self.code, 422)
