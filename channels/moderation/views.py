"""What moderators and members see of moderation: msgspec Structs for HTTP responses and live events."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

import msgspec

from channels.views import MessageView, View

FlagReason = Literal["spam", "harassment", "hate", "sexual", "violence", "private_data", "safety", "other"]
FLAG_REASONS: tuple[str, ...] = FlagReason.__args__  # type: ignore[attr-defined]
CaseStatus = Literal["open", "in_review", "resolved", "dismissed"]
ActionKind = Literal[
    "dismiss", "hide", "restore", "delete", "warn", "mute", "suspend", "approve", "reject", "uphold", "overturn"
]
# Safety and threats go first; every other reason weighs the same and the flag count decides.
URGENT_REASONS = frozenset({"safety", "violence"})
URGENT_PRIORITY = 100


class CaseView(View, kw_only=True):
    id: UUID
    source: str
    status: CaseStatus
    priority: int
    flag_count: int
    reasons: list[str]
    created_at: datetime
    message_id: UUID | None = None
    attachment_id: UUID | None = None
    conversation_id: UUID | None = None
    author_id: UUID | None = None
    rule_ids: list[UUID] = msgspec.field(default_factory=list)
    content: str = ""
    held: bool = False
    claimed_by: UUID | None = None
    closed_by: UUID | None = None
    closed_at: datetime | None = None
    resolution: str | None = None
    appeal_id: UUID | None = None


class FlagNote(View, kw_only=True):
    reporter_id: UUID
    reason: str
    note: str = ""
    created_at: datetime


class CaseDetail(View, kw_only=True):
    """A case with what a moderator needs to decide: the flags, the message's neighbours, the
    author's earlier cases, and the actions already taken."""

    case: CaseView
    flags: list[FlagNote]
    context: list[MessageView]
    author_cases: list[CaseView]
    actions: list[ActionView]
    appeal: AppealView | None = None
    """For an appeal: the appellant's statement."""
    appealed_action: ActionView | None = None
    """For an appeal: the action appealed against (its reason and the content as it was)."""


class CaseEvent(View, kw_only=True):
    """Published on ``t:<tenant>:moderation`` when a case opens or changes (no ``seq``: the queue is
    re-read over HTTP after a reconnect)."""

    kind: Literal["case.opened", "case.updated"]
    case: CaseView


class ActionView(View, kw_only=True):
    id: UUID
    kind: str
    reason: str
    created_at: datetime
    case_id: UUID | None = None
    moderator_id: UUID | None = None
    target_user_id: UUID | None = None
    message_id: UUID | None = None
    conversation_id: UUID | None = None
    expires_at: datetime | None = None


class AppealView(View, kw_only=True):
    id: UUID
    action_id: UUID
    appellant_id: UUID
    statement: str
    status: str
    created_at: datetime


class OwnActionView(View, kw_only=True):
    """An action taken against the caller, as they see it (not who took it), and its appeal if any."""

    id: UUID
    kind: str
    reason: str
    created_at: datetime
    message_id: UUID | None = None
    conversation_id: UUID | None = None
    expires_at: datetime | None = None
    appeal_status: str | None = None
    """``pending``, ``upheld`` or ``overturned`` once appealed; absent while it can still be appealed."""


class RuleView(View, kw_only=True):
    id: UUID
    name: str
    kind: str
    action: str
    enabled: bool
    fired_count: int
    dismissed_count: int
    terms: list[str] = msgspec.field(default_factory=list)
    pattern: str | None = None
    threshold: int | None = None


def moderation_topic(tenant_id: UUID | str) -> str:
    """The hub topic of a tenant's review queue: ``t:<tenant>:moderation``."""
    return f"t:{tenant_id}:moderation"


def redacted(view: MessageView, state: Literal["held", "hidden"]) -> MessageView:
    """What others see of a held or hidden message: its place, never its content."""
    return msgspec.structs.replace(
        view,
        body="",
        mentions=[],
        mention_here=False,
        mention_channel=False,
        links=[],
        attachment_ids=[],
        reactions=[],
        moderation=state,
    )
