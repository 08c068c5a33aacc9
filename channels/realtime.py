"""Chat on the hub: frame handlers, the topics a socket starts with, replay of missed events, who is reading."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING
from uuid import UUID

import msgspec
from sqlalchemy import func, select

from channels.batch import SendRequest
from channels.conversations import Conversations
from channels.effects import Effects
from channels.errors import ChatError
from channels.events import conversation_topic
from channels.frames import Ack, Delete, Edit, React, Read, Refused, Send, View
from channels.messages import Messages
from channels.moderation.reviewers import may_review
from channels.moderation.views import moderation_topic
from channels.notifications import MentionNotifier, viewing_key
from channels.reading import ReadState
from channels.writer import SendWriter
from hub import ReplayEvent, ReplayResult
from persistence.models import Conversation, ConversationEvent, ConversationMember

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from sqlalchemy.ext.asyncio import AsyncSession

    from hub import FrameContext, Hub, Principal
    from hub.redis_client import RedisClient
    from persistence.engine import Database

log = logging.getLogger("fieldhub.chat")

CONVERSATION_PREFIX = "conv:"
# A client on a conversation's screen says so every 30 s; a silent one stops counting as reading.
VIEWING_TTL_S = 60.0


class ChatRealtime:
    """Binds chat to one node's hub. Every change runs in its own transaction as the sender's
    tenant; its ack and events go out only after the commit.

    Args:
        hub: the node's hub.
        db: the application's database.
        redis: holds who is viewing which conversation (ephemeral).
    """

    def __init__(
        self,
        *,
        hub: Hub,
        db: Database,
        redis: RedisClient,
        on_stored: Callable[[UUID, UUID], Awaitable[None]] | None = None,
    ) -> None:
        self.hub = hub
        self.db = db
        self.redis = redis
        self.notifier = MentionNotifier(redis=redis, hub=hub)
        self.sends = SendWriter(db=db, hub=hub, notifier=self.notifier, on_stored=on_stored)
        """The node's group-commit writer of sends (the HTTP send route uses it too)."""

    def install(self) -> None:
        """Register chat's frames, subscriptions and replay with the hub."""
        self.hub.register_handler("send", Send, self._send)
        self.hub.register_handler("edit", Edit, self._edit)
        self.hub.register_handler("delete", Delete, self._delete)
        self.hub.register_handler("react", React, self._react)
        self.hub.register_handler("read", Read, self._read)
        self.hub.register_handler("view", View, self._view)
        self.hub.register_subscription_provider(self.topics_of)
        self.hub.register_subscription_provider(self.moderation_topics_of)
        self.hub.register_replay_provider(CONVERSATION_PREFIX, self.replay)

    async def topics_of(self, principal: Principal) -> list[str]:
        """Every conversation the user belongs to."""
        tenant_id = UUID(principal.namespace)
        async with self.db.transaction(tenant_id=tenant_id) as session:
            rows = await session.scalars(
                select(ConversationMember.conversation_id).where(ConversationMember.user_id == UUID(principal.user_id))
            )
            return [conversation_topic(tenant_id, cid) for cid in rows]

    async def moderation_topics_of(self, principal: Principal) -> list[str]:
        """The tenant's review queue, for a user whose roles may review (new cases appear live)."""
        tenant_id = UUID(principal.namespace)
        async with self.db.transaction(tenant_id=tenant_id) as session:
            if await may_review(session, UUID(principal.user_id)):
                return [moderation_topic(tenant_id)]
        return []

    async def replay(self, principal: Principal, topic: str, after_seq: int | None, limit: int) -> ReplayResult:
        """Events of a conversation after ``after_seq``, for a member (or anyone, for a public channel)."""
        try:
            conversation_id = UUID(topic.rsplit(":", 1)[1])
        except ValueError:
            return ReplayResult(status="not_found")
        tenant_id = UUID(principal.namespace)
        async with self.db.transaction(tenant_id=tenant_id) as session:
            conversation = await session.get(Conversation, conversation_id)
            member = await session.scalar(
                select(ConversationMember.id).where(
                    ConversationMember.conversation_id == conversation_id,
                    ConversationMember.user_id == UUID(principal.user_id),
                )
            )
            if conversation is None or (member is None and conversation.kind != "public"):
                return ReplayResult(status="not_found")
            if after_seq is None:
                return ReplayResult()
            # Retention may have removed the oldest events: a position before them cannot be resumed.
            first = await session.scalar(
                select(func.min(ConversationEvent.seq)).where(ConversationEvent.conversation_id == conversation_id)
            )
            if conversation.last_seq - after_seq > limit or (first is not None and first > after_seq + 1):
                return ReplayResult(status="too_far")
            rows = await session.execute(
                select(ConversationEvent.seq, ConversationEvent.payload)
                .where(ConversationEvent.conversation_id == conversation_id, ConversationEvent.seq > after_seq)
                .order_by(ConversationEvent.seq)
                .limit(limit)
            )
            events = [ReplayEvent(seq, msgspec.json.encode(payload)) for seq, payload in rows]
        return ReplayResult(events=events)

    # -- handlers -------------------------------------------------------------------------------

    async def run(
        self, ctx: FrameContext, change: Callable[[Conversations, AsyncSession], Awaitable[Ack]], *, reply: bool = True
    ) -> bool:
        """Run ``change`` in a transaction as the socket's user; ack after commit, then publish.

        Returns:
            Whether the change committed (a refusal has been answered already).
        """
        principal = ctx.principal
        effects = Effects()
        try:
            async with self.db.transaction(tenant_id=UUID(principal.namespace)) as session:
                conversations = Conversations(
                    session=session,
                    tenant_id=UUID(principal.namespace),
                    user_id=UUID(principal.user_id),
                    effects=effects,
                )
                ack = await change(conversations, session)
        except ChatError as refusal:
            ctx.reply(Refused(code=refusal.code, message=refusal.message))
            return False
        if reply:
            ctx.reply(ack)
        await effects.apply(self.hub)
        return True

    async def _send(self, ctx: FrameContext, frame: Send) -> None:
        """Store the message with the other sends waiting for its conversation; ack after the commit."""
        request = SendRequest(
            author_id=UUID(ctx.principal.user_id),
            body=frame.body,
            client_id=frame.client_id,
            thread_root_id=frame.thread_root_id,
            attachment_ids=tuple(frame.attachment_ids),
        )
        try:
            sent = await self.sends.send(UUID(ctx.principal.namespace), frame.conversation_id, request)
        except ChatError as refusal:
            if refusal.code == "unavailable":
                ctx.error("unavailable", refusal.message)  # as for any frame the node could not handle
            else:
                ctx.reply(Refused(code=refusal.code, message=refusal.message))
            return
        ctx.reply(Ack(message=sent.message, duplicate=not sent.created))

    async def _edit(self, ctx: FrameContext, frame: Edit) -> None:
        async def change(conversations: Conversations, _: AsyncSession) -> Ack:
            return Ack(message=await Messages(conversations=conversations).edit(frame.message_id, frame.body))

        await self.run(ctx, change)

    async def _delete(self, ctx: FrameContext, frame: Delete) -> None:
        async def change(conversations: Conversations, _: AsyncSession) -> Ack:
            return Ack(message=await Messages(conversations=conversations).delete(frame.message_id))

        await self.run(ctx, change)

    async def _react(self, ctx: FrameContext, frame: React) -> None:
        async def change(conversations: Conversations, _: AsyncSession) -> Ack:
            changed = await Messages(conversations=conversations).react(frame.message_id, frame.emoji, add=frame.add)
            return Ack(changed=changed)

        await self.run(ctx, change)

    async def _read(self, ctx: FrameContext, frame: Read) -> None:
        async def change(conversations: Conversations, _: AsyncSession) -> Ack:
            state = ReadState(conversations=conversations)
            if frame.thread_root_id is not None:
                return Ack(last_read_seq=await state.mark_thread_read(frame.thread_root_id, frame.seq))
            return Ack(last_read_seq=await state.mark_read(frame.conversation_id, frame.seq))

        await self.run(ctx, change)

    async def _view(self, ctx: FrameContext, frame: View) -> None:
        principal = ctx.principal
        if frame.conversation_id is not None:
            conversation_id = frame.conversation_id

            async def check(conversations: Conversations, _: AsyncSession) -> Ack:
                await conversations.visible(conversation_id)
                return Ack()

            if not await self.run(ctx, check, reply=False):
                return
        # One slot per socket remembers what it views, so switching conversations clears the last.
        slot = f"t:{principal.namespace}:viewing-of:{principal.user_id}:{ctx.connection_id}"
        previous = await self.redis.getset(slot, str(frame.conversation_id or ""))
        pipe = self.redis.pipeline(transaction=False)
        pipe.expire(slot, int(VIEWING_TTL_S))
        if previous:
            last = previous.decode() if isinstance(previous, bytes) else previous
            pipe.zrem(viewing_key(principal.namespace, UUID(last)), principal.user_id)
        if frame.conversation_id is not None:
            key = viewing_key(principal.namespace, frame.conversation_id)
            pipe.zadd(key, {principal.user_id: time.time() + VIEWING_TTL_S})
            pipe.expire(key, int(VIEWING_TTL_S) * 2)
        await pipe.execute()
        ctx.reply(Ack())
