"""Moderators' actions on a case: each needs a reason, is recorded with the content as it was, audited,
and takes effect for everyone once its transaction commits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal

from sqlalchemy import select, update

from channels.errors import ChatError
from channels.events import lock_conversation
from channels.messages import erase_message
from channels.moderation.cases import (
    OPEN_STATUSES,
    CaseQueue,
    ModerationContext,
    close_flags,
    gather_case,
    message_of,
    publish_case,
)
from channels.moderation.views import ActionView
from channels.moderation.visibility import set_state
from delivery.email import enqueue_email
from delivery.errors import NotifyError
from delivery.notify import notify
from delivery.recipients import Recipients
from persistence.models import (
    Message,
    MessageModeration,
    ModerationAction,
    ModerationAppeal,
    ModerationMute,
    ModerationRule,
    ModerationSettings,
    User,
)

if TYPE_CHECKING:
    from uuid import UUID

    from channels.conversations import Conversations
    from persistence.models import ModerationCase

MuteScope = Literal["conversation", "tenant"]
MAX_REASON = 1000
MAX_MUTE = timedelta(days=365)
# Actions that decide a case; the others (warn, mute, suspend, restore) may follow a decision.
CLOSING = {
    "dismiss": "dismissed",
    "hide": "resolved",
    "delete": "resolved",
    "approve": "resolved",
    "reject": "resolved",
}
ACTION_NOUNS = {
    "hide": "hidden message",
    "delete": "deletion of your message",
    "mute": "mute",
    "suspend": "suspension",
    "warn": "warning",
    "reject": "rejection of your message",
}
NEEDS_MESSAGE = frozenset({"hide", "restore", "delete", "approve", "reject"})
SUSPENDED_MAIL = """A moderator suspended your fieldhub account; you cannot sign in while it lasts.

Reason: {reason}

If you think this is wrong, you can appeal once, with your email and password, at:
{link}

A different moderator will review your appeal.
"""


class Enforcement:
    """Acts on cases as one moderator, inside the caller's transaction."""

    def __init__(self, ctx: ModerationContext, *, appeal_url: str = "") -> None:
        self.ctx = ctx
        self.appeal_url = appeal_url
        """Where a suspended user appeals (the client's page), told in the suspension mail."""
        self.session = ctx.session
        self.queue = CaseQueue(ctx)
        self.suspended: list[UUID] = []
        """Users suspended by this unit of work: the caller revokes their sessions and closes their sockets."""

    async def act(
        self,
        case_id: UUID,
        kind: str,
        *,
        reason: str,
        mute_minutes: int | None = None,
        mute_scope: MuteScope = "conversation",
    ) -> ActionView:
        """Take one action on a case.

        Raises:
            ChatError: ``invalid_message`` (no reason, bad duration, an action that does not fit the
                case); ``not_found`` (another tenant's case, out of scope); ``claimed`` (another
                moderator holds it); ``forbidden`` (an appeal of one's own action).
        """
        reason = reason.strip()
        if not 0 < len(reason) <= MAX_REASON:
            raise ChatError("invalid_message", f"Every action needs a reason of 1 to {MAX_REASON} characters.")
        case = await self.queue.get(case_id, lock=True)
        if case.excluded_moderator_id == self.ctx.actor_id:
            raise ChatError("forbidden", "An appeal goes to a different moderator.")
        if case.status in OPEN_STATUSES and case.claimed_by not in (None, self.ctx.actor_id):
            raise ChatError("claimed", "Another moderator is working on this case.")
        if kind in CLOSING and case.status not in OPEN_STATUSES:
            raise ChatError("conflict", "The case is closed already.")
        if kind in ("uphold", "overturn") and case.appeal_id is None:
            raise ChatError("invalid_message", "Only an appeal is upheld or overturned.")
        if kind in ("approve", "reject") and not case.held:
            raise ChatError("invalid_message", "Only a held message is approved or rejected.")
        # A reported file is acted on through the message that shared it (hiding or deleting that).
        message = await message_of(self.session, case)
        if kind in NEEDS_MESSAGE and (message is None or message.deleted_at is not None):
            raise ChatError("invalid_message", "The case has no message left to act on.")
        action = ModerationAction(
            tenant_id=self.ctx.tenant_id,
            case_id=case.id,
            kind=kind,
            moderator_id=self.ctx.actor_id,
            target_user_id=case.author_id,
            message_id=message.id if message is not None else case.message_id,
            conversation_id=case.conversation_id,
            reason=reason,
            content=message.body if message is not None and case.attachment_id is None else case.content,
            details={},
        )
        self.session.add(action)
        await self.session.flush()
        await self._apply(case, action, message, mute_minutes=mute_minutes, mute_scope=mute_scope)
        if kind in CLOSING or kind in ("uphold", "overturn"):
            await self._close(case, CLOSING.get(kind, "resolved"), kind)
        elif case.status == "open":
            case.status, case.claimed_by = "in_review", self.ctx.actor_id
        await self.session.flush()
        publish_case(self.ctx, case, opened=False)
        self.ctx.audit(
            f"moderation.{kind}",
            target_type="moderation_case",
            target_id=case.id,
            details={
                "action_id": str(action.id),
                "reason": reason,
                "content": action.content,
                "author_id": str(case.author_id) if case.author_id else None,
                "message_id": str(action.message_id) if action.message_id else None,
                **({"attachment_id": str(case.attachment_id)} if case.attachment_id else {}),
                **{k: str(v) for k, v in action.details.items()},
            },
        )
        return ActionView.from_row(action)

    async def delete_message(self, conversations: Conversations, message_id: UUID, *, reason: str) -> ActionView:
        """Delete someone's message from the chat itself, as Slack and Mattermost let moderators do:
        the message's case is opened (or its open case joined) and resolved by the delete, so the
        action is audited with the content, in the author's history, and appealable like any other.

        Raises:
            ChatError: ``invalid_message`` (no reason); ``not_found`` (a message the moderator cannot
                see, or outside their scope); ``claimed`` (another moderator works on its case).
        """
        if not reason.strip():
            raise ChatError("invalid_message", "A moderator deletes someone's message with a reason.")
        message = await self.session.get(Message, message_id)
        if message is None or message.deleted_at is not None:
            raise ChatError("not_found", "No such message.")
        await conversations.visible(message.conversation_id)
        case = await gather_case(
            self.ctx,
            source="moderator",
            message=message,
            conversation_id=message.conversation_id,
            author_id=message.author_id,
            content=message.body,
            reasons=[],
        )
        return await self.act(case.id, "delete", reason=reason)

    async def _apply(
        self,
        case: ModerationCase,
        action: ModerationAction,
        message: Message | None,
        *,
        mute_minutes: int | None,
        mute_scope: MuteScope,
    ) -> None:
        kind, actor = action.kind, self.ctx.actor_id
        effects = self.ctx.effects
        if kind in ("hide", "restore", "approve") and message is not None:
            await set_state(self.session, effects, message, "hidden" if kind == "hide" else None, actor_id=actor)
        elif kind in ("delete", "reject") and message is not None:
            conversation = await lock_conversation(self.session, message.conversation_id)
            await erase_message(self.session, effects, conversation, message, actor_id=actor)
        elif kind == "dismiss":
            if message is not None and case.held:
                await set_state(self.session, effects, message, None, actor_id=actor)
            if case.rule_ids:
                await self.session.execute(
                    update(ModerationRule)
                    .where(ModerationRule.id.in_(case.rule_ids))
                    .values(dismissed_count=ModerationRule.dismissed_count + 1)
                )
        elif kind == "warn":
            await self._tell_author(case, action, "A moderator warned you", action.reason)
        elif kind == "mute":
            if mute_minutes is None or not 0 < mute_minutes <= MAX_MUTE.total_seconds() // 60:
                raise ChatError("invalid_message", "A mute lasts 1 minute to 365 days (mute_minutes).")
            if case.author_id is None:
                raise ChatError("invalid_message", "The case has no author to mute.")
            action.expires_at = datetime.now(UTC) + timedelta(minutes=mute_minutes)
            action.details = {"scope": mute_scope}
            self.session.add(
                ModerationMute(
                    tenant_id=self.ctx.tenant_id,
                    user_id=case.author_id,
                    conversation_id=case.conversation_id if mute_scope == "conversation" else None,
                    action_id=action.id,
                    expires_at=action.expires_at,
                )
            )
            await self._tell_author(case, action, "A moderator muted you", action.reason)
        elif kind == "suspend":
            author = await self.session.get(User, case.author_id) if case.author_id else None
            if author is None:
                raise ChatError("invalid_message", "The case has no author to suspend.")
            author.status = "disabled"
            self.suspended.append(author.id)
            await self._mail_suspended(author, action)
        elif kind == "overturn":
            await self._overturn(case)
        if case.appeal_id is not None and kind in ("uphold", "overturn"):
            appeal = await self.session.get(ModerationAppeal, case.appeal_id)
            if appeal is not None:
                appeal.status = "upheld" if kind == "uphold" else "overturned"
                await self._tell_appellant(appeal, action)

    async def _overturn(self, case: ModerationCase) -> None:
        """Undo the appealed action: show the message again, lift the mute, or re-enable the account."""
        appeal = await self.session.get(ModerationAppeal, case.appeal_id)
        original = await self.session.get(ModerationAction, appeal.action_id) if appeal else None
        if original is None:
            return
        if original.kind == "hide" and original.message_id is not None:
            message = await self.session.get(Message, original.message_id)
            hidden = await self.session.scalar(
                select(MessageModeration.id).where(MessageModeration.message_id == original.message_id)
            )
            if message is not None and hidden is not None:
                await set_state(self.session, self.ctx.effects, message, None, actor_id=self.ctx.actor_id)
        elif original.kind == "mute":
            await self.session.execute(
                update(ModerationMute)
                .where(ModerationMute.action_id == original.id)
                .values(lifted_at=datetime.now(UTC))
            )
        elif original.kind == "suspend" and original.target_user_id is not None:
            user = await self.session.get(User, original.target_user_id)
            if user is not None:
                user.status = "active"

    async def _close(self, case: ModerationCase, status: str, kind: str) -> None:
        case.status, case.resolution = status, kind
        case.closed_by, case.closed_at = self.ctx.actor_id, datetime.now(UTC)
        reporters = await close_flags(self.session, case)
        if not reporters:
            return
        reveal = await self.session.scalar(select(ModerationSettings.reveal_moderator))
        who = ""
        if reveal:
            moderator = await self.session.get(User, self.ctx.actor_id)
            who = f" by {moderator.name}" if moderator else ""
        outcome = "no action was needed" if status == "dismissed" else "action was taken"
        await notify(
            self.session,
            tenant_id=self.ctx.tenant_id,
            recipients=Recipients(users=reporters),
            category="system",
            title="Your report was reviewed",
            body=f"Thank you for your report. It was reviewed{who} and {outcome}.",
            data={"case_id": str(case.id), "outcome": status},
            idempotency_key=f"moderation-case-closed:{case.id}",
        )

    async def _mail_suspended(self, author: User, action: ModerationAction) -> None:
        """Mail the notice straight to the address: delivery skips disabled users, and a suspended
        user can no longer read the inbox. An address that cannot be mailed to gets nothing."""
        try:
            await enqueue_email(
                self.session,
                tenant_id=self.ctx.tenant_id,
                to=author.email,
                subject="Your fieldhub account is suspended",
                body=SUSPENDED_MAIL.format(reason=action.reason, link=self.appeal_url),
                idempotency_key=f"moderation-suspended:{action.id}",
            )
        except NotifyError:
            return

    async def _tell_author(self, case: ModerationCase, action: ModerationAction, title: str, reason: str) -> None:
        if case.author_id is None:
            return
        await notify(
            self.session,
            tenant_id=self.ctx.tenant_id,
            recipients=Recipients(users=[case.author_id]),
            category="system",
            title=title,
            body=f"Reason: {reason}. You can appeal this decision once.",
            link=appeal_link(action.id),
            data={"action_id": str(action.id), "case_id": str(case.id)},
            idempotency_key=f"moderation-action:{action.id}",
        )

    async def _tell_appellant(self, appeal: ModerationAppeal, decision: ModerationAction) -> None:
        """Tell the appellant how their appeal ended (without the moderator, as for reporters)."""
        original = await self.session.get(ModerationAction, appeal.action_id)
        what = ACTION_NOUNS.get(original.kind, "decision") if original is not None else "decision"
        kept = decision.kind == "uphold"
        body = (
            f"A different moderator reviewed your appeal and kept the {what}. Reason: {decision.reason}"
            if kept
            else f"A different moderator reviewed your appeal and reversed the {what}."
        )
        appellant = await self.session.get(User, appeal.appellant_id)
        if appellant is None:
            return
        if appellant.status == "disabled":
            # A suspension that stands: the inbox is out of reach, so the answer goes by mail.
            try:
                await enqueue_email(
                    self.session,
                    tenant_id=self.ctx.tenant_id,
                    to=appellant.email,
                    subject="Your appeal was reviewed",
                    body=body + "\n",
                    idempotency_key=f"moderation-appeal-decided:{appeal.id}",
                )
            except NotifyError:
                return
            return
        await notify(
            self.session,
            tenant_id=self.ctx.tenant_id,
            recipients=Recipients(users=[appellant.id]),
            category="system",
            title="Your appeal was reviewed",
            body=body,
            data={"appeal_id": str(appeal.id), "outcome": appeal.status},
            idempotency_key=f"moderation-appeal-decided:{appeal.id}",
        )


def appeal_link(action_id: UUID) -> str:
    """The client's page that offers to appeal one action."""
    return f"/#/appeal/{action_id}"
