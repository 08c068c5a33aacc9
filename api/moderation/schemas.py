"""Request bodies of the moderation routes."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

import msgspec

from channels.moderation.views import ActionKind, FlagReason


class FlagItem(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason: FlagReason
    message_id: UUID | None = None
    attachment_id: UUID | None = None
    note: str = ""


class TakeAction(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    kind: ActionKind
    reason: str
    mute_minutes: int | None = None
    mute_scope: Literal["conversation", "tenant"] = "conversation"


class RuleFields(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: str = msgspec.field(default="")
    kind: str = "words"
    action: str = "flag"
    terms: list[str] = msgspec.field(default_factory=list)
    pattern: str | None = None
    threshold: int | None = None
    enabled: bool = True


class RulePatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    name: str | msgspec.UnsetType = msgspec.UNSET
    action: str | msgspec.UnsetType = msgspec.UNSET
    terms: list[str] | msgspec.UnsetType = msgspec.UNSET
    pattern: str | msgspec.UnsetType | None = msgspec.UNSET
    threshold: int | msgspec.UnsetType | None = msgspec.UNSET
    enabled: bool | msgspec.UnsetType = msgspec.UNSET


class RuleTest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    rule: RuleFields
    sample: str


class RuleTestResult(msgspec.Struct, kw_only=True):
    fired: bool
    masked: str
    hits: list[dict[str, object]]


class Appeal(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    action_id: UUID
    statement: str


class Scope(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    department_ids: list[UUID] = msgspec.field(default_factory=list)
    workplace_ids: list[UUID] = msgspec.field(default_factory=list)


class FlagReceipt(msgspec.Struct, kw_only=True):
    """What a reporter learns: their report is filed in this case."""

    case_id: UUID


class ModerationSettingsBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reveal_moderator: bool
    """Whether a reporter's feedback on a closed case names the moderator who closed it."""


class RuleReport(msgspec.Struct, kw_only=True):
    """What one rule did: how often it fired, and what became of the cases it opened or joined."""

    rule_id: UUID
    name: str
    action: str
    enabled: bool
    fired_count: int
    cases: int
    open: int
    resolved: int
    dismissed: int


class SuspensionAppeal(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A suspended user's appeal: their sign-in email and password stand in for a session."""

    email: str = msgspec.field()
    password: str
    statement: str
    tenant: str | None = None
    """The organisation's slug, when the email belongs to several."""
