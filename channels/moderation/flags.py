"""Flags: a member reports a message or a file they can see; flags on one item gather into its case."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from uuid_utils.compat import uuid7

from channels.errors import ChatError
from channels.moderation.cases import ModerationContext, gather_case
from channels.moderation.views import FLAG_REASONS, CaseView
from persistence.models import Attachment, Message, MessageModeration, ModerationFlag

if TYPE_CHECKING:
    from uuid import UUID

    from channels.conversations import Conversations

MAX_NOTE = 1000
# The predicates of the partial unique indexes on a reporter's open flags (persistence.models.moderation).
OPEN_FLAG_ON = {
    "message_id": text("closed_at IS NULL AND message_id IS NOT NULL"),
    "attachment_id": text("closed_at IS NULL AND attachment_id IS NOT NULL"),
}


async def flag_item(
    ctx: ModerationContext,
    conversations: Conversations,
    *,
    reason: str,
    note: str = "",
    message_id: UUID | None = None,
    attachment_id: UUID | None = None,
) -> CaseView:
    """Report one item; returns its case (new, or the open one this flag joined).

    Raises:
        ChatError: ``invalid_message`` for a bad reason, note or item; ``not_found`` for an item
            the reporter cannot see; ``already_flagged`` when their earlier flag on it is open.
    """
    if reason not in FLAG_REASONS:
        raise ChatError("invalid_message", f"The reason is one of {', '.join(FLAG_REASONS)}.")
    if len(note) > MAX_NOTE:
        raise ChatError("invalid_message", f"A note has at most {MAX_NOTE} characters.")
    if (message_id is None) == (attachment_id is None):
        raise ChatError("invalid_message", "Flag one message or one file.")
    session = ctx.session
    message: Message | None = None
    content = ""
    if message_id is not None:
        message = await session.get(Message, message_id)
        if message is None or message.deleted_at is not None:
            raise ChatError("not_found", "No such message.")
        await conversations.visible(message.conversation_id)
        hidden = await session.scalar(select(MessageModeration.state).where(MessageModeration.message_id == message.id))
        if hidden is not None and message.author_id != ctx.actor_id:
            raise ChatError("not_found", "No such message.")
        conversation_id, author_id, content = message.conversation_id, message.author_id, message.body
    else:
        attachment = await session.get(Attachment, attachment_id)
        if attachment is None or attachment.conversation_id is None:
            raise ChatError("not_found", "No such file.")
        await conversations.visible(attachment.conversation_id)
        conversation_id, author_id, content = attachment.conversation_id, attachment.uploader_id, attachment.filename
    taken = await session.scalar(
        select(ModerationFlag.id).where(
            ModerationFlag.reporter_id == ctx.actor_id,
            ModerationFlag.closed_at.is_(None),
            ModerationFlag.message_id == message_id
            if message_id is not None
            else ModerationFlag.attachment_id == attachment_id,
        )
    )
    if taken is not None:
        raise ChatError("already_flagged", "You have flagged this already; a moderator will review it.")
    case = await gather_case(
        ctx,
        source="flag",
        message=message,
        attachment_id=attachment_id,
        conversation_id=conversation_id,
        author_id=author_id,
        content=content,
        reasons=[reason],
        flags=1,
    )
    # The check above cannot see a flag of the same reporter that is not committed yet; the partial
    # unique index on open flags can, so a second flag sent at the same moment is refused here (its
    # transaction, with what it added to the case, rolls back).
    item = ModerationFlag.message_id if message_id is not None else ModerationFlag.attachment_id
    filed = await session.scalar(
        insert(ModerationFlag)
        .values(
            id=uuid7(),
            tenant_id=ctx.tenant_id,
            case_id=case.id,
            reporter_id=ctx.actor_id,
            message_id=message_id,
            attachment_id=attachment_id,
            reason=reason,
            note=note,
        )
        .on_conflict_do_nothing(index_elements=[ModerationFlag.reporter_id, item], index_where=OPEN_FLAG_ON[item.key])
        .returning(ModerationFlag.id)
    )
    if filed is None:
        raise ChatError("already_flagged", "You have flagged this already; a moderator will review it.")
    ctx.audit(
        "moderation.flag",
        target_type="message" if message_id is not None else "attachment",
        target_id=message_id or attachment_id,
        details={"case_id": str(case.id), "reason": reason, "note": note, "content": content},
    )
    return CaseView.from_row(case)
