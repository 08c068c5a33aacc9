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
