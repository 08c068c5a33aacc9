"""Appeals: the user an action fell on asks once for another look; the appeal becomes a case that the
moderator who acted may not decide."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from uuid_utils.compat import uuid7

from channels.errors import ChatError
from channels.moderation.cases import ModerationContext, publish_case
from channels.moderation.views import AppealView, OwnActionView
from persistence.models import ModerationAction, ModerationAppeal, ModerationCase

if TYPE_CHECKING:
    from uuid import UUID

APPEALABLE = frozenset({"hide", "delete", "mute", "suspend", "warn", "reject"})
MAX_STATEMENT = 2000
MAX_LISTED = 50


async def appeal(ctx: ModerationContext, action_id: UUID, statement: str) -> AppealView:
    """Appeal an action taken against the caller.

    Raises:
        ChatError: ``not_found`` (no such action against the caller), ``invalid_message`` (an
            action that cannot be appealed, an empty statement), ``already_appealed``.
    """
    statement = statement.strip()
    if not 0 < len(statement) <= MAX_STATEMENT:
        raise ChatError("invalid_message", f"Say why in 1 to {MAX_STATEMENT} characters.")
    action = await ctx.session.get(ModerationAction, action_id)
    if action is None or action.target_user_id != ctx.actor_id:
        raise ChatError("not_found", "No such action against you.")
    if action.kind not in APPEALABLE:
        raise ChatError("invalid_message", "This action cannot be appealed.")
    # The unique action id makes two simultaneous appeals end with exactly one.
    appeal_id = await ctx.session.scalar(
        insert(ModerationAppeal)
        .values(
            id=uuid7(),
            tenant_id=ctx.tenant_id,
            action_id=action.id,
            appellant_id=ctx.actor_id,
            statement=statement,
            status="pending",
        )
        .on_conflict_do_nothing(index_elements=["action_id"])
        .returning(ModerationAppeal.id)
    )
    if appeal_id is None:
        raise ChatError("already_appealed", "This action has been appealed already.")
    record = await ctx.session.scalar(select(ModerationAppeal).where(ModerationAppeal.id == appeal_id))
    assert record is not None
    case = ModerationCase(
        tenant_id=ctx.tenant_id,
        source="appeal",
        status="open",
        priority=0,
        conversation_id=action.conversation_id,
        author_id=action.target_user_id,
        flag_count=0,
        reasons=["appeal"],
        rule_ids=[],
        content=action.content,
        held=False,
        appeal_id=appeal_id,
        excluded_moderator_id=action.moderator_id,
    )
    ctx.session.add(case)
    await ctx.session.flush()
    publish_case(ctx, case, opened=True)
    ctx.audit(
        "moderation.appeal",
        target_type="moderation_action",
        target_id=action.id,
        details={"appeal_id": str(appeal_id), "case_id": str(case.id), "statement": statement},
    )
    return AppealView.from_row(record)


async def actions_against(ctx: ModerationContext, *, message_id: UUID | None = None) -> list[OwnActionView]:
    """The appealable actions taken against the caller (on one message, if given), newest first,
    each with its appeal's status once appealed."""
    statement = (
        select(ModerationAction, ModerationAppeal.status)
        .outerjoin(ModerationAppeal, ModerationAppeal.action_id == ModerationAction.id)
        .where(ModerationAction.target_user_id == ctx.actor_id, ModerationAction.kind.in_(APPEALABLE))
        .order_by(ModerationAction.created_at.desc())
        .limit(MAX_LISTED)
    )
    if message_id is not None:
        statement = statement.where(ModerationAction.message_id == message_id)
    rows = await ctx.session.execute(statement)
    return [
        OwnActionView(
            id=action.id,
            kind=action.kind,
            reason=action.reason,
            created_at=action.created_at,
            message_id=action.message_id,
            conversation_id=action.conversation_id,
            expires_at=action.expires_at,
            appeal_status=status,
        )
        for action, status in rows.tuples()
    ]
