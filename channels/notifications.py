"""Who hears about a message: mentions, @here, @channel and direct messages become notifications
(through ``delivery.notify``, in the sending transaction), except for people reading it right now."""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING
from uuid import UUID

from redis.exceptions import RedisError
from sqlalchemy import select

from delivery.notify import notify
from delivery.recipients import Recipients
from persistence.models import ConversationMember, User

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from channels.views import MessageView
    from hub import Hub
    from hub.redis_client import RedisClient
    from persistence.models import Conversation

PREVIEW_CHARS = 200
_MENTION_TOKEN = re.compile(r"<@([0-9a-fA-F-]{36})>")


def viewing_key(tenant_id: UUID | str, conversation_id: UUID) -> str:
    """Redis sorted set of who has the conversation on screen (score: when that stops counting)."""
    return f"t:{tenant_id}:viewing:{conversation_id}"


class MentionNotifier:
    """Turns a new message into notifications for the members who should hear of it.

    Args:
        redis: where ``view`` frames record who is reading which conversation.
        hub: answers who is online in a conversation (for ``@here``); ``None`` treats nobody as online.
    """

    def __init__(self, *, redis: RedisClient, hub: Hub | None) -> None:
        self._redis = redis
        self._hub = hub

    async def message_sent(self, session: AsyncSession, conversation: Conversation, message: MessageView) -> list[UUID]:
        """Notify inside ``session``'s transaction; returns who was notified.

        Direct mentions reach muted members too (as in Slack); ``@channel`` reaches every member,
        ``@here`` those online in the conversation; in direct and group conversations every
        message reaches the members whose level is ``all``. Level ``none``, the author, and anyone
        reading the conversation at this moment are left out.
        """
        return (await self.messages_sent(session, conversation, [message])).get(message.id, [])

    async def messages_sent(
        self, session: AsyncSession, conversation: Conversation, messages: list[MessageView]
    ) -> dict[UUID, list[UUID]]:
        """:meth:`message_sent` for several messages of one conversation, reading its members at
        most once; returns who was notified, per message notifying anyone."""
        notified: dict[UUID, list[UUID]] = {}
        members: dict[UUID, ConversationMember] | None = None
        for message in messages:
            if not (message.mentions or message.mention_channel or message.mention_here) and conversation.kind not in (
                "direct",
                "group",
            ):
                continue  # the common case in channels: nobody to tell, no query spent on the members
            if members is None:
                members = {
                    m.user_id: m
                    for m in await session.scalars(
                        select(ConversationMember).where(ConversationMember.conversation_id == conversation.id)
                    )
                }
            if chosen := await self._notify(session, conversation, message, members):
                notified[message.id] = chosen
        return notified

    async def _notify(
        self,
        session: AsyncSession,
        conversation: Conversation,
        message: MessageView,
        members: dict[UUID, ConversationMember],
    ) -> list[UUID]:
        chosen: set[UUID] = set(message.mentions)
        if message.mention_channel:
            chosen |= {u for u, m in members.items() if not m.muted}
        if message.mention_here:
            chosen |= {u for u in await self._online(conversation) if u in members and not members[u].muted}
        if conversation.kind in ("direct", "group"):
            chosen |= {u for u, m in members.items() if m.notify_level == "all" and not m.muted}
        chosen = {u for u in chosen if u in members and u != message.author_id and members[u].notify_level != "none"}
        chosen -= await self._viewing(conversation, chosen)
        if not chosen:
            return []
        author = await session.get(User, message.author_id) if message.author_id else None
        author_name = author.name if author else "Someone"
        where = f"#{conversation.name}" if conversation.name else "a conversation"
        title = (
            f"{author_name} sent you a message"
            if conversation.kind == "direct"
            else f"{author_name} mentioned you in {where}"
        )
        return await notify(
            session,
            tenant_id=conversation.tenant_id,
            recipients=Recipients(users=sorted(chosen)),
            category="mention",
            title=title,
            body=await self._preview(session, message.body),
            link=f"/#/c/{conversation.id}/m/{message.id}",
            data={"conversation_id": str(conversation.id), "message_id": str(message.id), "seq": message.seq},
            idempotency_key=f"chat-message:{message.id}",
        )

    async def _online(self, conversation: Conversation) -> set[UUID]:
        if self._hub is None:
            return set()
        topic = f"t:{conversation.tenant_id}:conv:{conversation.id}"
        try:
            return {UUID(u) for u in await self._hub.presence.online_in_topic(topic)}
        except ConnectionError:
            return set()

    async def _viewing(self, conversation: Conversation, users: set[UUID]) -> set[UUID]:
        if not users:
            return set()
        ordered = list(users)
        try:
            scores = await self._redis.zmscore(
                viewing_key(conversation.tenant_id, conversation.id), [str(u) for u in ordered]
            )
        except RedisError:
            # Redis away (restarting, or a cluster primary failing over) must not fail the send:
            # notify everyone rather than no one.
            return set()
        now = time.time()
        return {u for u, score in zip(ordered, scores, strict=True) if score is not None and score > now}

    @staticmethod
    async def _preview(session: AsyncSession, body: str) -> str:
        """The text with ``<@id>`` tokens shown as ``@Name``, cut to 200 characters."""
        ids = {UUID(m) for m in _MENTION_TOKEN.findall(body)}
        names: dict[str, str] = {}
        if ids:
            rows = await session.execute(select(User.id, User.name).where(User.id.in_(ids)))
            names = {str(i): n for i, n in rows.tuples()}
        text = _MENTION_TOKEN.sub(lambda m: "@" + names.get(m.group(1).lower(), "someone"), body)
        return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"
