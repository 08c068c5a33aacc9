"""The one error delivery raises for bad input: a stable code, a sentence, and structured details."""

from __future__ import annotations

from typing import Any


class NotifyError(ValueError):
    """Bad input to :func:`delivery.notify.notify` or another delivery entry point; nothing was written.

    Args:
        code: stable machine-readable code (``unknown_category``, ``unknown_recipients``...).
        message: a sentence for people.
        details: structured context (never secrets).
    """

    def __init__(self, code: str, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}
