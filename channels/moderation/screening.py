"""The send path's moderation: refuse muted authors, run the tenant's rules, and after the message is
stored, hold it or open its case. The mutes and the rules' version are read with the conversation's
lock (no round trip of their own) once per batch of sends; the rules themselves run in memory."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

import msgspec
from sqlalchemy import any_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from channels.errors import ChatError
from channels.moderation.cases import ModerationContext, direct_auditor, gather_case
from channels.moderation.rules import RULES, RULES_VERSION, CompiledRules, Hit, Sample, mask
from channels.text import find_links, parse_mentions
from persistence.models import Attachment, Message, MessageModeration, ModerationMute, ModerationRule, User
from persistence.tenancy import bind_tenant

if TYPE_CHECKING:
    from sqlalchemy import BindParameter, ColumnElement, ScalarSelect
    from sqlalchemy.ext.asyncio import AsyncEngine
    from sqlalchemy.orm import InstrumentedAttribute

    from channels.effects import Effects

log = logging.getLogger("fieldhub.chat.moderation")
REPEAT_WINDOW = timedelta(minutes=10)
BURST_WINDOW = timedelta(minutes=1)
_counting: set[asyncio.Task[None]] = set()
"""Counts of blocked sends on their way to the database (kept here so they are not collected early)."""


class Screening(msgspec.Struct, kw_only=True):
    """What the rules decided for one message about to be stored."""

    body: str
    hold: bool = False
    review_rule_ids: list[UUID] = msgspec.field(default_factory=list)
    """Rules whose action was flag or hold: the message gets a case."""
    fired_rule_ids: list[UUID] = msgspec.field(default_factory=list)


def screening_columns(
    authors: BindParameter[Any], conversation_id: ColumnElement[UUID] | InstrumentedAttribute[UUID]
) -> list[ScalarSelect[Any]]:
    """Two columns to read with the conversation (one round trip for all): the active mutes of
    ``authors`` there or tenant-wide, as JSON ``[[user_id, expires_at], ...]``, and the tenant's
    rules version. :meth:`Screener.load` takes them."""
    mutes = (
        select(func.json_agg(func.json_build_array(ModerationMute.user_id, ModerationMute.expires_at)))
        .where(
            ModerationMute.user_id == any_(authors),
            ModerationMute.lifted_at.is_(None),
            ModerationMute.expires_at > func.now(),
            or_(ModerationMute.conversation_id.is_(None), ModerationMute.conversation_id == conversation_id),
        )
        .scalar_subquery()
    )
    return [mutes, RULES_VERSION]


class Screener:
    """The send path's checks for the sends of a batch in one conversation: the authors' mutes and
    the tenant's rules are read once for all of them (two indexed reads), then each message is
    screened in memory unless a rule needs its history.

    Build it with :meth:`load`.
    """

    def __init__(
        self,
        session: AsyncSession,
        *,
        tenant_id: UUID,
        conversation_id: UUID,
        muted_until: dict[UUID, datetime],
        rules: CompiledRules,
    ) -> None:
        self._session = session
        self._tenant_id = tenant_id
        self._conversation_id = conversation_id
        self._muted_until = muted_until
        self._rules = rules

    @classmethod
    async def load(
        cls,
        session: AsyncSession,
        *,
        tenant_id: UUID,
        conversation_id: UUID,
        mutes: list[tuple[str, str]] | None,
        rules_version: int | None,
    ) -> Screener:
        """A screener from what :func:`screening_columns` read (with the conversation's lock): the
        authors' active mutes and the rules' version; the rules are read only when they changed."""
        muted_until: dict[UUID, datetime] = {}
        for user_id, expires_at in mutes or ():
            until = datetime.fromisoformat(expires_at)
            muted_until[UUID(user_id)] = max(until, muted_until.get(UUID(user_id), until))
        return cls(
            session,
            tenant_id=tenant_id,
            conversation_id=conversation_id,
            muted_until=muted_until,
            rules=await RULES.rules_for(session, tenant_id, version=rules_version or 0),
        )

    async def screen(self, *, author_id: UUID, body: str, attachment_ids: list[UUID]) -> Screening:
        """Check one message before it is stored.

        Raises:
            ChatError: ``muted`` for a muted author; ``blocked_by_rule`` when a blocking rule fires
                (the message is not stored and the sender is told which rule).
        """
        until = self._muted_until.get(author_id)
        if until is not None:
            raise ChatError("muted", f"A moderator muted you here until {until.isoformat(timespec='minutes')}.")
        rules = self._rules
        if rules.empty:
            return Screening(body=body)
        hits = rules.evaluate(await self._sample(author_id, body, attachment_ids))
        if not hits:
            return Screening(body=body)
        blocking = [h for h in hits if h.action == "block"]
        if blocking:
            count_blocked(self._session, self._tenant_id, [h.rule_id for h in hits])
            raise ChatError("blocked_by_rule", f"Your message was not sent: it breaks the rule {blocking[0].name!r}.")
        return Screening(
            body=mask(body, hits),
            hold=any(h.action == "hold" for h in hits),
            review_rule_ids=[h.rule_id for h in hits if h.action in ("flag", "hold")],
            fired_rule_ids=[h.rule_id for h in hits],
        )

    async def _sample(self, author_id: UUID, body: str, attachment_ids: list[UUID]) -> Sample:
        session, rules = self._session, self._rules
        mentions = parse_mentions(body)
        sample = Sample(
            body=body,
            links=find_links(body),
            mention_count=len(mentions.users) + int(mentions.here) + int(mentions.channel),
        )
        if rules.needs_attachment_types and attachment_ids:
            sample.attachment_types = list(
                await session.scalars(select(Attachment.content_type).where(Attachment.id.in_(attachment_ids)))
            )
        if rules.needs_account_age and sample.links:
            created = await session.scalar(select(User.created_at).where(User.id == author_id))
            if created is not None:
                sample.account_age_hours = (datetime.now(UTC) - created).total_seconds() / 3600
        if rules.needs_history:
            now = datetime.now(UTC)
            sample.same_text_conversations = int(
                await session.scalar(
                    select(func.count(func.distinct(Message.conversation_id))).where(
                        Message.author_id == author_id,
                        Message.body == body,
                        Message.conversation_id != self._conversation_id,
                        Message.created_at > now - REPEAT_WINDOW,
                    )
                )
                or 0
            )
            sample.recent_messages = int(
                await session.scalar(
                    select(func.count()).where(Message.author_id == author_id, Message.created_at > now - BURST_WINDOW)
                )
                or 0
            )
        return sample


def count_blocked(session: AsyncSession, tenant_id: UUID, rule_ids: list[UUID]) -> None:
    """Count the rules that fired on a blocked send, outside the send's transaction.

    A block raises, and the send's transaction rolls back with everything in it, so an increment
    made there (as :func:`after_store` does for sends that go through) would be lost: the rule
    would never report its blocks. The count therefore goes in a short transaction of its own,
    started as a separate task rather than awaited here. Awaiting it here would hold the send's
    connection (and its conversation lock) while waiting for a second connection and for the
    rule's row lock, which other sends firing the same rule hold until they commit: enough
    concurrent blocked sends would then exhaust the pool waiting on themselves. As a task, it runs
    once the send has rolled back and given its connection back. A Redis counter flushed later was
    the other choice; it would need a flusher and could lose or double counts at each flush, where
    this loses a count only if the process dies in the instant between the refusal and the update.
    """
    engine = session.bind
    task = asyncio.get_running_loop().create_task(_add_fired(engine, tenant_id, rule_ids))  # type: ignore[arg-type]
    _counting.add(task)
    task.add_done_callback(_counting.discard)


async def _add_fired(engine: AsyncEngine, tenant_id: UUID, rule_ids: list[UUID]) -> None:
    counter = AsyncSession(engine)
    bind_tenant(counter, tenant_id)
    try:
        async with counter, counter.begin():
            await counter.execute(
                update(ModerationRule)
                .where(ModerationRule.id.in_(rule_ids))
                .values(fired_count=ModerationRule.fired_count + 1)
            )
    except Exception:
        log.exception("could not count a blocked send for rules %s", rule_ids)


async def counted() -> None:
    """Wait until the counts of blocked sends so far are stored (tests, and a node shutting down)."""
    while _counting:
        await asyncio.gather(*list(_counting), return_exceptions=True)


async def after_store(
    session: AsyncSession, effects: Effects, message: Message, screening: Screening, *, original_body: str
) -> None:
    """Count the fired rules, hold the message, and open its case (published to moderators after commit)."""
    if not screening.fired_rule_ids:
        return
    await session.execute(
        update(ModerationRule)
        .where(ModerationRule.id.in_(screening.fired_rule_ids))
        .values(fired_count=ModerationRule.fired_count + 1)
    )
    if screening.hold:
        session.add(
            MessageModeration(
                tenant_id=message.tenant_id,
                message_id=message.id,
                conversation_id=message.conversation_id,
                state="held",
            )
        )
    if screening.review_rule_ids:
        ctx = ModerationContext(
            session=session,
            tenant_id=message.tenant_id,
            actor_id=message.author_id or message.id,
            effects=effects,
            audit=direct_auditor(session, tenant_id=message.tenant_id, actor_id=None),
        )
        case = await gather_case(
            ctx,
            source="rule",
            message=message,
            conversation_id=message.conversation_id,
            author_id=message.author_id,
            content=original_body,
            reasons=["rule"],
            rule_ids=screening.review_rule_ids,
            held=screening.hold,
        )
        ctx.audit(
            "moderation.rule.fired",
            target_type="message",
            target_id=message.id,
            details={"case_id": str(case.id), "rule_ids": [str(r) for r in screening.review_rule_ids]},
        )


def hits_summary(hits: list[Hit]) -> list[dict[str, object]]:
    return [{"rule_id": str(h.rule_id), "name": h.name, "action": h.action, "spans": list(h.spans)} for h in hits]
