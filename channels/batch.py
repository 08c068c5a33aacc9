"""Storing a batch of sends to one conversation in the caller's transaction: one row lock, one
``last_seq`` update, one multi-row INSERT per table; each message is refused or stored on its own."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import msgspec
from sqlalchemy import any_, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm.attributes import set_committed_value
from uuid_utils.compat import uuid7

from channels import send_sql as sql
from channels.attachments import FileError, claim_attachments
from channels.conversations import count_members
from channels.errors import ChatError
from channels.events import outgoing_event
from channels.moderation.screening import Screener, after_store
from channels.moderation.views import redacted
from channels.reactions import reaction_counts
from channels.text import check_body, links_of, parse_mentions, storable
from channels.views import ChatEvent, MessageView
from persistence.models import Conversation, ConversationMember, Message, ThreadFollow

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession

    from channels.effects import Effects
    from channels.events import Outgoing
    from channels.moderation.screening import Screening
    from channels.notifications import MentionNotifier

MAX_BODY = 4_000
MAX_CLIENT_ID = 64
# In a channel larger than this, only its owners and admins may notify everyone with @channel.
LARGE_CHANNEL = 50


class SendRequest(msgspec.Struct, frozen=True, kw_only=True):
    """One send as its author asked for it (the text not yet trimmed or checked)."""

    author_id: UUID
    body: str
    client_id: str
    thread_root_id: UUID | None = None
    attachment_ids: tuple[UUID, ...] = ()


class Sent(msgspec.Struct, frozen=True):
    """A stored message, and whether this send stored it (``False``: a retry found the original)."""

    message: MessageView
    created: bool


Outcome = Sent | ChatError


class _Locked(msgspec.Struct, kw_only=True):
    """What the batch read with the conversation's lock."""

    conversation: Conversation
    roles: dict[UUID, str | None]
    """Each author's role in the conversation (``None``: not a member)."""
    retried: bool
    """Whether some ``client_id`` of the batch may have been stored before (only then are they looked up)."""
    screener: Screener


class _Accepted(msgspec.Struct, kw_only=True):
    """A message that passed every check, about to be stored at ``view.seq``."""

    view: MessageView
    original_body: str
    screening: Screening
    root: Message | None


async def members_among(session: AsyncSession, conversation_id: UUID, user_ids: Iterable[UUID]) -> set[UUID]:
    """Which of ``user_ids`` are members of the conversation (one query; none for no ids)."""
    wanted = list(dict.fromkeys(user_ids))
    if not wanted:
        return set()
    rows = await session.scalars(
        select(ConversationMember.user_id).where(
            ConversationMember.conversation_id == conversation_id,
            ConversationMember.user_id == any_(sql.uuids("wanted", wanted)),
        )
    )
    return set(rows)


async def store_sends(
    session: AsyncSession,
    *,
    tenant_id: UUID,
    conversation_id: UUID,
    requests: Sequence[SendRequest],
    effects: Effects,
    notifier: MentionNotifier | None = None,
    max_body: int = MAX_BODY,
) -> list[Outcome]:
    """Store ``requests`` (in this order, at consecutive ``seq``) in ``session``'s transaction.

    A refused message is left out and the others are stored; a retried ``client_id`` (stored
    earlier, or earlier in this batch) gets the original back. The events are collected in
    ``effects``, to publish after the commit.

    Returns:
        One outcome per request, in order: :class:`Sent`, or the :class:`ChatError` refusing it
        (nothing of a refused message is written).

    Raises:
        SQLAlchemyError: the database failed; the caller's transaction must roll back whole.
    """
    return await _Batch(session, tenant_id=tenant_id, effects=effects, notifier=notifier, max_body=max_body).store(
        conversation_id, requests
    )


class _Batch:
    def __init__(
        self,
        session: AsyncSession,
        *,
        tenant_id: UUID,
        effects: Effects,
        notifier: MentionNotifier | None,
        max_body: int,
    ) -> None:
        self.session = session
        self.tenant_id = tenant_id
        self.effects = effects
        self.notifier = notifier
        self.max_body = max_body
        self.roots: dict[UUID, Message] = {}

    async def store(self, conversation_id: UUID, requests: Sequence[SendRequest]) -> list[Outcome]:
        authors = list(dict.fromkeys(r.author_id for r in requests))
        locked = await self._lock(conversation_id, requests, authors)
        if locked is None:
            return [ChatError("not_found", "No such conversation.") for _ in requests]
        conversation, roles, screener = locked.conversation, locked.roles, locked.screener
        earlier = await self._earlier(conversation_id, requests, authors) if locked.retried else {}
        # One query for every mention of the batch (masking by a rule can only remove some).
        members = await members_among(
            self.session, conversation_id, (u for r in requests for u in parse_mentions(r.body).users)
        )
        now = datetime.now(UTC)
        outcomes: list[Outcome] = []
        accepted: list[_Accepted] = []
        stored_now: dict[tuple[UUID, str], MessageView] = {}
        for request in requests:
            key = (request.author_id, request.client_id)
            try:
                self._check_author(request, conversation, roles)
                if key in earlier:
                    outcomes.append(Sent(earlier[key], created=False))
                    continue
                if key in stored_now:
                    outcomes.append(Sent(stored_now[key], created=False))
                    continue
                item = await self._prepare(
                    request, conversation, roles[request.author_id], screener, members, now, conversation.last_seq + 1
                )
                if item.view.attachment_ids:
                    await self._insert_with_files(item)
            except ChatError as refusal:
                outcomes.append(refusal)
                continue
            set_committed_value(conversation, "last_seq", item.view.seq)
            accepted.append(item)
            stored_now[key] = item.view
            outcomes.append(Sent(_as_author_sees(item), created=True))
        if accepted:
            await self._write(conversation, [a for a in accepted if not a.view.attachment_ids], accepted, now)
        return outcomes

    async def _lock(
        self, conversation_id: UUID, requests: Sequence[SendRequest], authors: list[UUID]
    ) -> _Locked | None:
        """Lock the conversation (its events are numbered one writer at a time) and read, in the
        same round trip, the authors' roles, whether any ``client_id`` was used before, their
        mutes and the rules' version. ``None``: no such conversation in this tenant."""
        rows = (
            await self.session.execute(
                sql.LOCK,
                {
                    "conversation_id": conversation_id,
                    "authors": authors,
                    "client_ids": list({r.client_id for r in requests}),
                },
            )
        ).all()
        if not rows:
            return None
        conversation, _, _, retried, seen_seq, mutes, rules_version = rows[0]
        roles: dict[UUID, str | None] = dict.fromkeys(authors)
        for _, user_id, role, *_ in rows:
            if user_id is not None:
                roles[user_id] = role
        screener = await Screener.load(
            self.session,
            tenant_id=self.tenant_id,
            conversation_id=conversation_id,
            mutes=mutes,
            rules_version=rules_version,
        )
        return _Locked(
            conversation=conversation,
            roles=roles,
            retried=retried or seen_seq != conversation.last_seq,
            screener=screener,
        )

    @staticmethod
    def _check_author(request: SendRequest, conversation: Conversation, roles: dict[UUID, str | None]) -> None:
        if not 1 <= len(request.client_id) <= MAX_CLIENT_ID or not storable(request.client_id):
            raise ChatError("invalid_message", f"client_id must be 1 to {MAX_CLIENT_ID} characters.")
        if roles[request.author_id] is None:
            # A private conversation's existence is not revealed to a non-member.
            if conversation.kind != "public":
                raise ChatError("not_found", "No such conversation.")
            raise ChatError("not_member", "Join the channel first.")

    async def _earlier(
        self, conversation_id: UUID, requests: Sequence[SendRequest], authors: list[UUID]
    ) -> dict[tuple[UUID, str], MessageView]:
        """Messages stored by earlier sends with the batch's ``client_id`` s (the lock makes this race-free)."""
        rows = (
            await self.session.scalars(
                sql.EARLIER,
                {"conversation_id": conversation_id, "authors": authors, "client_ids": [r.client_id for r in requests]},
            )
        ).all()
        if not rows:
            return {}
        reactions = await reaction_counts(self.session, [m.id for m in rows])
        return {(m.author_id, m.client_id): MessageView.of(m, reactions.get(m.id)) for m in rows if m.author_id}

    async def _prepare(
        self,
        request: SendRequest,
        conversation: Conversation,
        role: str | None,
        screener: Screener,
        members: set[UUID],
        now: datetime,
        seq: int,
    ) -> _Accepted:
        """Every check of one message (reads only): refused here, nothing of it is written."""
        body = request.body.strip()
        attachments = list(dict.fromkeys(request.attachment_ids))
        check_body(body, allow_empty=bool(attachments), max_body=self.max_body)
        if conversation.archived_at is not None:
            raise ChatError("archived", "The conversation is archived.")
        root = await self._thread_root(conversation.id, request.thread_root_id) if request.thread_root_id else None
        # Mutes and the tenant's rules: may refuse, mask the text, or hold the message for review.
        screening = await screener.screen(author_id=request.author_id, body=body, attachment_ids=attachments)
        mentions = parse_mentions(screening.body)
        if (
            mentions.channel
            and role not in ("owner", "admin")
            and await count_members(self.session, conversation.id) > LARGE_CHANNEL
        ):
            raise ChatError("mention_not_allowed", "Only the channel's owners and admins may use @channel here.")
        view = MessageView(
            id=uuid7(),
            conversation_id=conversation.id,
            seq=seq,
            author_id=request.author_id,
            client_id=request.client_id,
            body=screening.body,
            created_at=now,
            thread_root_id=root.id if root else None,
            mentions=[u for u in mentions.users if u in members],
            mention_here=mentions.here,
            mention_channel=mentions.channel,
            links=links_of(screening.body),
            attachment_ids=attachments,
        )
        return _Accepted(view=view, original_body=body, screening=screening, root=root)

    async def _thread_root(self, conversation_id: UUID, root_id: UUID) -> Message:
        root = self.roots.get(root_id) or await self.session.get(Message, root_id, with_for_update=True)
        # A root from another conversation is refused as if it did not exist.
        if root is None or root.conversation_id != conversation_id or root.deleted_at is not None:
            raise ChatError("invalid_thread", "No such thread in this conversation.")
        if root.thread_root_id is not None:
            raise ChatError("invalid_thread", "Reply to the thread's first message.")
        self.roots[root_id] = root
        return root

    async def _insert_with_files(self, item: _Accepted) -> None:
        """Store a message carrying files at once, under a savepoint: an upload that is not the
        sender's to share refuses this message alone."""
        try:
            async with self.session.begin_nested():
                await self.session.execute(insert(sql.MESSAGE), [self._row(item.view)])
                await claim_attachments(
                    self.session,
                    tenant_id=self.tenant_id,
                    uploader_id=item.view.author_id,  # type: ignore[arg-type]
                    conversation_id=item.view.conversation_id,
                    message_id=item.view.id,
                    attachment_ids=item.view.attachment_ids,
                )
        except FileError as refusal:
            raise ChatError("invalid_attachment", refusal.message) from None

    async def _write(
        self, conversation: Conversation, plain: list[_Accepted], accepted: list[_Accepted], now: datetime
    ) -> None:
        """The writes of the accepted messages: rows, events, read positions (one statement), then
        threads, moderation and notifications."""
        session = self.session
        events = [self._event(item, now) for item in accepted]
        read_at = {a.view.author_id: a.view.seq for a in accepted}  # the sender has read their own message
        await session.execute(
            sql.WRITE,
            {
                "tenant_id": self.tenant_id,
                "conversation_id": conversation.id,
                "now": now,
                "m_ids": [a.view.id for a in plain],
                "m_seqs": [a.view.seq for a in plain],
                "m_authors": [a.view.author_id for a in plain],
                "m_client_ids": [a.view.client_id for a in plain],
                "m_bodies": [a.view.body for a in plain],
                "m_roots": [a.view.thread_root_id for a in plain],
                "m_mentions": ["{" + ",".join(map(str, a.view.mentions)) + "}" for a in plain],
                "m_here": [a.view.mention_here for a in plain],
                "m_channel": [a.view.mention_channel for a in plain],
                "m_links": [msgspec.json.encode(a.view.links).decode() for a in plain],
                "e_ids": [uuid7() for _ in accepted],
                "e_seqs": [a.view.seq for a in accepted],
                "e_actors": [a.view.author_id for a in accepted],
                "e_messages": [a.view.id for a in accepted],
                "e_payloads": [e.payload.decode() for e in events],
                "readers": list(read_at),
                "read_seqs": list(read_at.values()),
                "last_seq": conversation.last_seq,
            },
        )
        set_committed_value(conversation, "last_message_at", now)
        for item in accepted:
            if item.root is not None:
                await self._count_reply(item.root, item.view)
            if item.screening.fired_rule_ids:
                stored = await session.get_one(Message, item.view.id)
                await after_store(session, self.effects, stored, item.screening, original_body=item.original_body)
        for event in events:
            self.effects.publish(event)
        if self.notifier is not None:
            await self.notifier.messages_sent(session, conversation, [a.view for a in accepted if not a.screening.hold])

    def _event(self, item: _Accepted, now: datetime) -> Outgoing:
        # Others get a held message's place in the sequence, not its content; the author gets it whole.
        view = redacted(item.view, "held") if item.screening.hold else item.view
        event = ChatEvent(
            kind="message.created",
            conversation_id=item.view.conversation_id,
            seq=item.view.seq,
            actor_id=item.view.author_id,
            at=now,
            message=view,
        )
        return outgoing_event(self.tenant_id, event)

    def _row(self, view: MessageView) -> dict[str, object]:
        return {
            "id": view.id,
            "tenant_id": self.tenant_id,
            "conversation_id": view.conversation_id,
            "seq": view.seq,
            "author_id": view.author_id,
            "client_id": view.client_id,
            "body": view.body,
            "thread_root_id": view.thread_root_id,
            "reply_count": 0,
            "thread_participants": [],
            "mentions": view.mentions,
            "mention_here": view.mention_here,
            "mention_channel": view.mention_channel,
            "links": view.links,
            "attachment_ids": view.attachment_ids,
            "created_at": view.created_at,
            "updated_at": view.created_at,
        }

    async def _count_reply(self, root: Message, reply: MessageView) -> None:
        root.reply_count += 1
        root.last_reply_at = reply.created_at
        root.last_reply_seq = reply.seq
        participants = list(root.thread_participants or [])
        if reply.author_id is not None and reply.author_id not in participants:
            participants.append(reply.author_id)
        root.thread_participants = participants
        for user_id in {root.author_id, reply.author_id} - {None}:
            await self.session.execute(
                pg_insert(ThreadFollow)
                .values(
                    id=uuid7(),
                    tenant_id=self.tenant_id,
                    root_id=root.id,
                    user_id=user_id,
                    conversation_id=root.conversation_id,
                    last_read_seq=reply.seq if user_id == reply.author_id else 0,
                )
                .on_conflict_do_update(
                    index_elements=["root_id", "user_id"],
                    set_={"last_read_seq": reply.seq} if user_id == reply.author_id else {"root_id": root.id},
                )
            )


def _as_author_sees(item: _Accepted) -> MessageView:
    """The author's ack shows the whole message, marked while moderation holds it."""
    return msgspec.structs.replace(item.view, moderation="held") if item.screening.hold else item.view
