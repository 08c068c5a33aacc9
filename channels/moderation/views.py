"""What moderators and members see of moderation: msgspec Structs for HTTP responses and live events."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

import msgspec

from channels.views import MessageView, View
from persistence.models import ModerationAction, ModerationAppeal, ModerationCase, ModerationRule

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

    @classmethod
    def of(cls, case: ModerationCase) -> CaseView:
        return cls(
            id=case.id,
            source=case.source,
            status=case.status,  # type: ignore[arg-type]
            priority=case.priority,
            flag_count=case.flag_count,
            reasons=list(case.reasons or []),
            created_at=case.created_at,
            message_id=case.message_id,
            attachment_id=case.attachment_id,
            conversation_id=case.conversation_id,
            author_id=case.author_id,
            rule_ids=list(case.rule_ids or []),
            content=case.content,
            held=case.held,
            claimed_by=case.claimed_by,
            closed_by=case.closed_by,
            closed_at=case.closed_at,
            resolution=case.resolution,
            appeal_id=case.appeal_id,
        )


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

    @classmethod
    def of(cls, action: ModerationAction) -> ActionView:
        return cls(
            id=action.id,
            kind=action.kind,
            reason=action.reason,
            created_at=action.created_at,
            case_id=action.case_id,
            moderator_id=action.moderator_id,
            target_user_id=action.target_user_id,
            message_id=action.message_id,
            conversation_id=action.conversation_id,
            expires_at=action.expires_at,
        )


class AppealView(View, kw_only=True):
    id: UUID
    action_id: UUID
    appellant_id: UUID
    statement: str
    status: str
    created_at: datetime

    @classmethod
    def of(cls, appeal: ModerationAppeal) -> AppealView:
        return cls(
            id=appeal.id,
            action_id=appeal.action_id,
            appellant_id=appeal.appellant_id,
            statement=appeal.statement,
            status=appeal.status,
            created_at=appeal.created_at,
        )


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

    @classmethod
    def of(cls, rule: ModerationRule) -> RuleView:
        return cls(
            id=rule.id,
            name=rule.name,
            kind=rule.kind,
            action=rule.action,
            enabled=rule.enabled,
            fired_count=rule.fired_count,
            dismissed_count=rule.dismissed_count,
            terms=list(rule.terms or []),
            pattern=rule.pattern,
            threshold=rule.threshold,
        )


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
