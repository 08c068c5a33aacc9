"""Cases: flags and rule hits gathered per item, the prioritised review queue, claiming, context,
moderators' scopes, and the live queue on ``t:<tenant>:moderation``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

import msgspec
from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils.compat import uuid7

from channels.effects import Effects
from channels.errors import ChatError
from channels.events import Outgoing
from channels.moderation.views import (
    URGENT_PRIORITY,
    URGENT_REASONS,
    ActionView,
    AppealView,
    CaseDetail,
    CaseEvent,
    CaseView,
    FlagNote,
    moderation_topic,
)
from channels.views import MessageView
from persistence.models import (
    Attachment,
    AuditEvent,
    Conversation,
    Message,
    ModerationAction,
    ModerationAppeal,
    ModerationCase,
    ModerationFlag,
    ModeratorScope,
    User,
)
from persistence.models.moderation import OPEN_CASE

if TYPE_CHECKING:
    from sqlalchemy.sql import Select

OPEN_STATUSES = ("open", "in_review")
CONTEXT_AROUND = 5
MAX_PAGE = 100


class Auditor(Protocol):
    """Adds one append-only audit record to the caller's transaction (the API binds who and where)."""

    def __call__(
        self, action: str, *, target_type: str, target_id: UUID | str | None, details: dict[str, Any]
    ) -> None: ...


def direct_auditor(session: AsyncSession, *, tenant_id: UUID, actor_id: UUID | None) -> Auditor:
    """An auditor for changes with no HTTP request behind them (the send path, tests)."""

    def write(action: str, *, target_type: str, target_id: UUID | str | None, details: dict[str, Any]) -> None:
        session.add(
            AuditEvent(
                tenant_id=tenant_id,
                occurred_at=datetime.now(UTC),
                actor_user_id=actor_id,
                action=action,
                outcome="success",
                target_type=target_type,
                target_id=str(target_id) if target_id is not None else None,
                details=msgspec.to_builtins(details),
            )
        )

    return write


@dataclass
class ModerationContext:
    """Who acts in which tenant, inside which transaction; what to publish after commit; where to audit."""

    session: AsyncSession
    tenant_id: UUID
    actor_id: UUID
    effects: Effects
    audit: Auditor


def priority_of(reasons: list[str], flag_count: int) -> int:
    """Safety and threats first, then by flag count (age breaks ties in the queue's order).

    >>> priority_of(["spam"], 3), priority_of(["violence"], 1)
    (3, 101)
    """
    return (URGENT_PRIORITY if URGENT_REASONS.intersection(reasons) else 0) + min(flag_count, URGENT_PRIORITY - 1)


def publish_case(ctx: ModerationContext, case: ModerationCase, *, opened: bool) -> None:
    """Send the case to every moderator's screen once the transaction commits.

    The topic reaches every reviewer of the tenant, scoped ones included, so the event leaves the
    content out: a screen fetches the case over HTTP, where the moderator's scope applies.
    """
    view = msgspec.structs.replace(CaseView.from_row(case), content="")
    event = CaseEvent(kind="case.opened" if opened else "case.updated", case=view)
    ctx.effects.publish(Outgoing(topic=moderation_topic(ctx.tenant_id), seq=None, payload=msgspec.json.encode(event)))


async def gather_case(
    ctx: ModerationContext,
    *,
    source: str,
    message: Message | None,
    attachment_id: UUID | None = None,
    conversation_id: UUID | None,
    author_id: UUID | None,
    content: str,
    reasons: list[str],
    rule_ids: list[UUID] = (),  # type: ignore[assignment]
    held: bool = False,
    flags: int = 0,
) -> ModerationCase:
    """The item's open case with these reasons, flags and rules added, or a new one.

    Two reporters at once: the partial unique index on the item's open case lets one insert win;
    the other adds to it under its row lock.
    """
    now = datetime.now(UTC)
    item = ModerationCase.message_id if message is not None else ModerationCase.attachment_id
    item_id = message.id if message is not None else attachment_id
    created_id = await ctx.session.scalar(
        insert(ModerationCase)
        .values(
            id=uuid7(),
            tenant_id=ctx.tenant_id,
            source=source,
            status="open",
            priority=0,
            message_id=message.id if message is not None else None,
            attachment_id=attachment_id,
            conversation_id=conversation_id,
            author_id=author_id,
            flag_count=0,
            reasons=[],
            rule_ids=[],
            content=content,
            held=False,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=[item], index_where=OPEN_CASE)
        .returning(ModerationCase.id)
    )
    case = await ctx.session.scalar(
        select(ModerationCase)
        .where(item == item_id, ModerationCase.status.in_(OPEN_STATUSES))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert case is not None
    case.flag_count += flags
    case.reasons = sorted({*(case.reasons or []), *reasons})
    case.rule_ids = list(dict.fromkeys([*(case.rule_ids or []), *rule_ids]))
    case.held = case.held or held
    case.priority = priority_of(case.reasons, case.flag_count)
    await ctx.session.flush()
    publish_case(ctx, case, opened=created_id is not None)
    return case


class CaseQueue:
    """The review queue as one moderator sees it: their tenant, within their scope."""

    def __init__(self, ctx: ModerationContext) -> None:
        self.ctx = ctx
        self.session = ctx.session

    async def list(
        self,
        *,
        status: str | None = None,
        reason: str | None = None,
        conversation_id: UUID | None = None,
        rule_id: UUID | None = None,
        reporter_id: UUID | None = None,
        author_id: UUID | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[CaseView]:
        """Cases by priority (safety first, then flag count), oldest first within a priority."""
        statement = await self._in_scope(select(ModerationCase))
        if status is not None:
            statement = statement.where(ModerationCase.status == status)
        else:
            statement = statement.where(ModerationCase.status.in_(OPEN_STATUSES))
        if reason is not None:
            statement = statement.where(ModerationCase.reasons.contains([reason]))
        if conversation_id is not None:
            statement = statement.where(ModerationCase.conversation_id == conversation_id)
        if rule_id is not None:
            statement = statement.where(ModerationCase.rule_ids.contains([rule_id]))
        if author_id is not None:
            statement = statement.where(ModerationCase.author_id == author_id)
        if reporter_id is not None:
            statement = statement.where(
                ModerationCase.id.in_(select(ModerationFlag.case_id).where(ModerationFlag.reporter_id == reporter_id))
            )
        rows = await self.session.scalars(
            statement.order_by(ModerationCase.priority.desc(), ModerationCase.created_at, ModerationCase.id)
            .limit(max(1, min(limit, MAX_PAGE)))
            .offset(offset)
        )
        return [CaseView.from_row(c) for c in rows]

    async def get(self, case_id: UUID, *, lock: bool = False) -> ModerationCase:
        """A case of this tenant within the moderator's scope.

        Raises:
            ChatError: ``not_found`` for another tenant's case (row-level security hides it) or one
                outside the moderator's scope (its existence is not revealed).
        """
        statement = await self._in_scope(select(ModerationCase).where(ModerationCase.id == case_id))
        if lock:
            statement = statement.with_for_update()
        case = await self.session.scalar(statement)
        if case is None:
            raise ChatError("not_found", "No such case.")
        return case

    async def claim(self, case_id: UUID) -> ModerationCase:
        """Take an open case, so no other moderator works on it at the same time.

        Raises:
            ChatError: ``claimed`` when another moderator holds it; ``conflict`` when it is closed;
                ``forbidden`` for an appeal of one's own action.
        """
        case = await self.get(case_id, lock=True)
        if case.status not in OPEN_STATUSES:
            raise ChatError("conflict", "The case is closed.")
        if case.excluded_moderator_id == self.ctx.actor_id:
            raise ChatError("forbidden", "An appeal goes to a different moderator.")
        if case.claimed_by not in (None, self.ctx.actor_id):
            raise ChatError("claimed", "Another moderator is working on this case.")
        if case.claimed_by is None:
            case.claimed_by, case.claimed_at, case.status = self.ctx.actor_id, datetime.now(UTC), "in_review"
            await self.session.flush()
            self.ctx.audit("moderation.case.claim", target_type="moderation_case", target_id=case.id, details={})
            publish_case(self.ctx, case, opened=False)
        return case

    async def release(self, case_id: UUID) -> ModerationCase:
        """Give back a case one holds, for any moderator to take.

        Raises:
            ChatError: ``conflict`` when the caller does not hold it; ``not_found`` as :meth:`get`.
        """
        case = await self.get(case_id, lock=True)
        if case.claimed_by != self.ctx.actor_id or case.status != "in_review":
            raise ChatError("conflict", "You do not hold this case.")
        case.claimed_by, case.claimed_at, case.status = None, None, "open"
        await self.session.flush()
        self.ctx.audit("moderation.case.release", target_type="moderation_case", target_id=case.id, details={})
        publish_case(self.ctx, case, opened=False)
        return case

    async def detail(self, case_id: UUID) -> CaseDetail:
        case = await self.get(case_id)
        flags = await self.session.scalars(
            select(ModerationFlag).where(ModerationFlag.case_id == case.id).order_by(ModerationFlag.created_at)
        )
        context: list[MessageView] = []
        message = await message_of(self.session, case)
        if message is not None:
            rows = await self.session.scalars(
                select(Message)
                .where(
                    Message.conversation_id == message.conversation_id,
                    Message.seq.between(message.seq - CONTEXT_AROUND, message.seq + CONTEXT_AROUND),
                )
                .order_by(Message.seq)
            )
            context = [MessageView.of(m) for m in rows]
        author_cases = []
        if case.author_id is not None:
            rows_cases = await self.session.scalars(
                select(ModerationCase)
                .where(ModerationCase.author_id == case.author_id, ModerationCase.id != case.id)
                .order_by(ModerationCase.created_at.desc())
                .limit(20)
            )
            author_cases = [CaseView.from_row(c) for c in rows_cases]
        actions = await self.session.scalars(
            select(ModerationAction).where(ModerationAction.case_id == case.id).order_by(ModerationAction.created_at)
        )
        appeal = await self.session.get(ModerationAppeal, case.appeal_id) if case.appeal_id else None
        appealed = await self.session.get(ModerationAction, appeal.action_id) if appeal else None
        return CaseDetail(
            appeal=AppealView.from_row(appeal) if appeal else None,
            appealed_action=ActionView.from_row(appealed) if appealed else None,
            case=CaseView.from_row(case),
            flags=[
                FlagNote(reporter_id=f.reporter_id, reason=f.reason, note=f.note, created_at=f.created_at)
                for f in flags
            ],
            context=context,
            author_cases=author_cases,
            actions=[ActionView.from_row(a) for a in actions],
        )

    async def _in_scope(self, statement: Select[tuple[ModerationCase]]) -> Select[tuple[ModerationCase]]:
        """Limit to the moderator's departments (by author) and workplaces (by conversation), if any."""
        scope = await self.session.scalar(select(ModeratorScope).where(ModeratorScope.user_id == self.ctx.actor_id))
        if scope is None or not (scope.department_ids or scope.workplace_ids):
            return statement
        return statement.where(
            or_(
                ModerationCase.author_id.in_(select(User.id).where(User.department_id.in_(scope.department_ids or []))),
                ModerationCase.conversation_id.in_(
                    select(Conversation.id).where(Conversation.workplace_id.in_(scope.workplace_ids or []))
                ),
            )
        )


async def message_of(session: AsyncSession, case: ModerationCase) -> Message | None:
    """The message a case is about: its own, or for a reported file the message that shared it."""
    if case.message_id is not None:
        return await session.get(Message, case.message_id)
    if case.attachment_id is None:
        return None
    attachment = await session.get(Attachment, case.attachment_id)
    if attachment is None or attachment.message_id is None:
        return None
    return await session.get(Message, attachment.message_id)


async def close_flags(session: AsyncSession, case: ModerationCase) -> list[UUID]:
    """Close the case's open flags; returns their reporters (who get feedback)."""
    rows = await session.scalars(
        update(ModerationFlag)
        .where(ModerationFlag.case_id == case.id, ModerationFlag.closed_at.is_(None))
        .values(closed_at=datetime.now(UTC))
        .returning(ModerationFlag.reporter_id)
    )
    return sorted(set(rows))
