"""Conversations and membership: channels, direct and group messages, joining, leaving, roles, archiving."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from uuid_utils.compat import uuid7

from channels.errors import ChatError
from channels.events import append_event, conversation_topic, lock_conversation
from channels.views import ConversationView, MemberView, NotifyLevel
from persistence.models import Conversation, ConversationMember, User

if TYPE_CHECKING:
    from collections.abc import Iterable

    from sqlalchemy.ext.asyncio import AsyncSession

    from channels.effects import Effects

ChannelKind = Literal["public", "private"]
GROUP_MIN, GROUP_MAX = 3, 8
_CHANNEL_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,79}$")
MANAGERS = ("owner", "admin")


def channel_name(raw: str) -> str:
    """Normalise a channel name: lower case, spaces to dashes; 1-80 of ``a-z 0-9 _ -``.

    >>> channel_name("  Store Visits North ")
    'store-visits-north'
    """
    name = "-".join(raw.strip().lower().split())
    if not _CHANNEL_NAME.match(name):
        raise ChatError("invalid_name", "A channel name is 1-80 of a-z, 0-9, - and _.")
    return name


class Conversations:
    """Conversation rules for one user of one tenant, inside the caller's transaction.

    Args:
        session: the caller's unit of work, running as ``tenant_id``.
        tenant_id: the caller's tenant.
        user_id: who acts.
        effects: collects the events and subscription moves to apply after commit.
    """

    def __init__(self, *, session: AsyncSession, tenant_id: UUID, user_id: UUID, effects: Effects) -> None:
        self.session = session
        self.tenant_id = tenant_id
        self.user_id = user_id
        self.effects = effects

    # -- reading -----------------------------------------------------------------------------

    async def member(self, conversation_id: UUID, user_id: UUID | None = None) -> ConversationMember | None:
        member: ConversationMember | None = await self.session.scalar(
            select(ConversationMember).where(
                ConversationMember.conversation_id == conversation_id,
                ConversationMember.user_id == (user_id or self.user_id),
            )
        )
        return member

    async def visible(self, conversation_id: UUID) -> tuple[Conversation, ConversationMember | None]:
        """A conversation the user may see: a member's, or a public channel.

        Raises:
            ChatError: ``not_found`` otherwise (a private conversation's existence is not revealed).
        """
        conversation = await self.session.get(Conversation, conversation_id)
        member = await self.member(conversation_id) if conversation is not None else None
        if conversation is None or (member is None and conversation.kind != "public"):
            raise ChatError("not_found", "No such conversation.")
        return conversation, member

    async def membership(self, conversation_id: UUID, *, lock: bool = False) -> tuple[Conversation, ConversationMember]:
        """The conversation and the user's membership in it; with ``lock``, its row is locked for writing.

        Raises:
            ChatError: ``not_found`` (not visible) or ``not_member`` (a public channel not joined).
        """
        conversation, member = await self.visible(conversation_id)
        if member is None:
            raise ChatError("not_member", "Join the channel first.")
        if lock:
            conversation = await lock_conversation(self.session, conversation_id)
        return conversation, member

    async def members(self, conversation_id: UUID) -> list[MemberView]:
        await self.visible(conversation_id)
        rows = await self.session.scalars(
            select(ConversationMember)
            .where(ConversationMember.conversation_id == conversation_id)
            .order_by(ConversationMember.created_at)
        )
        return [MemberView.of(m) for m in rows]

    async def member_ids(self, conversation_id: UUID) -> list[UUID]:
        rows = await self.session.scalars(
            select(ConversationMember.user_id).where(ConversationMember.conversation_id == conversation_id)
        )
        return list(rows)

    async def browse(self, query: str | None, *, limit: int = 50) -> list[Conversation]:
        """Public channels of the tenant, by name."""
        statement = select(Conversation).where(Conversation.kind == "public", Conversation.archived_at.is_(None))
        if query:
            statement = statement.where(Conversation.name.ilike(f"%{_escape_like(query.lower())}%", escape="\\"))
        return list(await self.session.scalars(statement.order_by(Conversation.name).limit(limit)))

    # -- creating ----------------------------------------------------------------------------

    async def create_channel(
        self, *, name: str, kind: ChannelKind, topic: str = "", purpose: str = "", member_ids: Iterable[UUID] = ()
    ) -> Conversation:
        """A public or private channel; the creator is its owner, ``member_ids`` join as members."""
        normalized = channel_name(name)
        taken = await self.session.scalar(
            select(Conversation.id).where(Conversation.name == normalized, Conversation.kind.in_(("public", "private")))
        )
        if taken is not None:
            raise ChatError("conflict", f"A channel named {normalized!r} exists.")
        others = await self._existing_users(set(member_ids) - {self.user_id})
        conversation = await self._new(kind=kind, name=normalized, topic=topic, purpose=purpose)
        await self._add(conversation, self.user_id, role="owner")
        for user_id in others:
            await self._add(conversation, user_id, role="member")
        return conversation

    async def open_direct(self, other_id: UUID) -> tuple[Conversation, bool]:
        """The one direct conversation of the user and ``other_id``, created if needed.

        Returns:
            The conversation, and whether it was created now.
        """
        if other_id == self.user_id:
            raise ChatError("invalid_members", "A direct message needs another person.")
        await self._existing_users({other_id})
        key = ":".join(sorted((str(self.user_id), str(other_id))))
        # Two people opening their DM at once: the unique key lets exactly one insert win.
        created_id = await self.session.scalar(
            insert(Conversation)
            .values(_row(tenant_id=self.tenant_id, kind="direct", created_by=self.user_id, dm_key=key))
            .on_conflict_do_nothing(index_elements=["tenant_id", "dm_key"])
            .returning(Conversation.id)
        )
        conversation = await self.session.scalar(select(Conversation).where(Conversation.dm_key == key))
        assert conversation is not None
        if created_id is not None:
            for user_id in (self.user_id, other_id):
                await self._add(conversation, user_id, role="member")
        return conversation, created_id is not None

    async def open_group(self, user_ids: Iterable[UUID]) -> Conversation:
        """A group conversation of 3 to 8 people, the user included."""
        people = set(user_ids) | {self.user_id}
        if not GROUP_MIN <= len(people) <= GROUP_MAX:
            raise ChatError("invalid_members", f"A group conversation has {GROUP_MIN} to {GROUP_MAX} people.")
        await self._existing_users(people - {self.user_id})
        conversation = await self._new(kind="group", name=None)
        for user_id in sorted(people):
            await self._add(conversation, user_id, role="owner" if user_id == self.user_id else "member")
        return conversation

    async def ensure_workplace_channel(self, workplace_id: UUID, name: str) -> Conversation:
        """The channel of a workplace, created on first use (its members follow assignments)."""
        existing = await self.session.scalar(select(Conversation).where(Conversation.workplace_id == workplace_id))
        if existing is not None:
            return existing
        return await self._new(kind="workplace", name=channel_name(name), workplace_id=workplace_id)

    async def sync_workplace_members(self, workplace_id: UUID, user_ids: Iterable[UUID]) -> None:
        """Make the workplace channel's members exactly ``user_ids`` (called when assignments change)."""
        conversation = await self.session.scalar(select(Conversation).where(Conversation.workplace_id == workplace_id))
        if conversation is None:
            raise ChatError("not_found", "The workplace has no channel.")
        wanted = set(user_ids)
        current = set(await self.member_ids(conversation.id))
        conversation = await lock_conversation(self.session, conversation.id)
        for user_id in sorted(wanted - current):
            await self._add(conversation, user_id, role="member")
        for user_id in sorted(current - wanted):
            await self._remove(conversation, user_id)

    # -- membership ----------------------------------------------------------------------------

    async def join(self, conversation_id: UUID) -> Conversation:
        """Join a public channel."""
        conversation, member = await self.visible(conversation_id)
        if conversation.kind != "public":
            raise ChatError("forbidden", "Only public channels can be joined; ask to be invited.")
        if member is not None:
            raise ChatError("already_member", "You are a member already.")
        conversation = await self._writable(conversation_id)
        await self._add(conversation, self.user_id, role="member")
        return conversation

    async def leave(self, conversation_id: UUID) -> None:
        conversation, _ = await self.membership(conversation_id)
        if conversation.kind in ("direct", "workplace"):
            raise ChatError("forbidden", "You cannot leave this conversation.")
        await self._remove(await lock_conversation(self.session, conversation_id), self.user_id)

    async def invite(self, conversation_id: UUID, user_ids: Iterable[UUID]) -> list[UUID]:
        """Add people to a channel or group the user belongs to; returns who was added."""
        conversation, _ = await self.membership(conversation_id)
        if conversation.kind in ("direct", "workplace"):
            raise ChatError("forbidden", "Members of this conversation cannot be chosen.")
        current = set(await self.member_ids(conversation_id))
        newcomers = sorted(await self._existing_users(set(user_ids) - current))
        if conversation.kind == "group" and len(current) + len(newcomers) > GROUP_MAX:
            raise ChatError("invalid_members", f"A group conversation has at most {GROUP_MAX} people.")
        conversation = await self._writable(conversation_id)
        for user_id in newcomers:
            await self._add(conversation, user_id, role="member")
        return newcomers

    async def remove(self, conversation_id: UUID, user_id: UUID) -> None:
        """Remove a member (channel owners and admins only)."""
        conversation, member = await self.membership(conversation_id)
        if conversation.kind not in ("public", "private") or member.role not in MANAGERS:
            raise ChatError("forbidden", "Only a channel's owners and admins remove members.")
        if await self.member(conversation_id, user_id) is None:
            raise ChatError("not_member", "That person is not a member.")
        await self._remove(await self._writable(conversation_id), user_id)

    async def set_role(self, conversation_id: UUID, user_id: UUID, role: Literal["admin", "member"]) -> None:
        conversation, member = await self.membership(conversation_id)
        target = await self.member(conversation_id, user_id)
        if member.role != "owner" or conversation.kind not in ("public", "private"):
            raise ChatError("forbidden", "Only the channel's owner changes roles.")
        if target is None or target.role == "owner":
            raise ChatError("not_member", "That person is not a member whose role can change.")
        target.role = role
        await self._event(conversation_id, "member.updated", member=MemberView.of(target))

    async def set_preferences(
        self, conversation_id: UUID, *, muted: bool | None = None, notify_level: NotifyLevel | None = None
    ) -> ConversationMember:
        """The user's own mute and notification level (private to them: no event)."""
        _, member = await self.membership(conversation_id)
        if muted is not None:
            member.muted = muted
        if notify_level is not None:
            member.notify_level = notify_level
        return member

    # -- settings ------------------------------------------------------------------------------

    async def update(
        self, conversation_id: UUID, *, name: str | None = None, topic: str | None = None, purpose: str | None = None
    ) -> Conversation:
        """Any member sets topic and purpose; only owners and admins rename a channel."""
        conversation, member = await self.membership(conversation_id)
        if name is not None:
            if conversation.kind not in ("public", "private") or member.role not in MANAGERS:
                raise ChatError("forbidden", "Only a channel's owners and admins rename it.")
            normalized = channel_name(name)
            clash = await self.session.scalar(
                select(Conversation.id).where(
                    Conversation.name == normalized,
                    Conversation.kind.in_(("public", "private")),
                    Conversation.id != conversation_id,
                )
            )
            if clash is not None:
                raise ChatError("conflict", f"A channel named {normalized!r} exists.")
        conversation = await self._writable(conversation_id)
        if name is not None:
            conversation.name = channel_name(name)
        if topic is not None:
            conversation.topic = topic
        if purpose is not None:
            conversation.purpose = purpose
        await self.session.flush()
        self.effects.publish(
            await append_event(
                self.session,
                conversation,
                kind="conversation.updated",
                actor_id=self.user_id,
                view=ConversationView.of(conversation),
            )
        )
        return conversation

    async def set_archived(self, conversation_id: UUID, archived: bool) -> Conversation:
        """Archive (read-only from then on) or unarchive a channel: owners and admins."""
        conversation, member = await self.membership(conversation_id)
        if conversation.kind not in ("public", "private", "group") or member.role not in MANAGERS:
            raise ChatError("forbidden", "Only a conversation's owners and admins archive it.")
        conversation = await lock_conversation(self.session, conversation_id)
        if (conversation.archived_at is not None) == archived:
            return conversation
        conversation.archived_at = datetime.now(UTC) if archived else None
        await self.session.flush()
        self.effects.publish(
            await append_event(
                self.session,
                conversation,
                kind="conversation.archived" if archived else "conversation.unarchived",
                actor_id=self.user_id,
                view=ConversationView.of(conversation),
            )
        )
        return conversation

    # -- internals -------------------------------------------------------------------------------

    async def _writable(self, conversation_id: UUID) -> Conversation:
        conversation = await lock_conversation(self.session, conversation_id)
        if conversation.archived_at is not None:
            raise ChatError("archived", "The conversation is archived.")
        return conversation

    async def _existing_users(self, user_ids: set[UUID]) -> set[UUID]:
        """``user_ids`` if every one is an active user of this tenant (others' ids are invisible here)."""
        if not user_ids:
            return set()
        found = set(await self.session.scalars(select(User.id).where(User.id.in_(user_ids), User.status == "active")))
        if found != user_ids:
            raise ChatError("invalid_members", "Some of those people do not exist.")
        return found

    async def _new(self, *, kind: str, name: str | None, **fields: object) -> Conversation:
        row = _row(tenant_id=self.tenant_id, kind=kind, created_by=self.user_id, name=name)
        conversation = Conversation(**{**row, **fields})
        self.session.add(conversation)
        await self.session.flush()
        return conversation

    async def _add(self, conversation: Conversation, user_id: UUID, *, role: str) -> None:
        member = ConversationMember(
            tenant_id=self.tenant_id,
            conversation_id=conversation.id,
            user_id=user_id,
            role=role,
            # A newcomer starts with everything before their arrival read.
            last_read_seq=conversation.last_seq,
        )
        self.session.add(member)
        await self.session.flush()
        self.effects.subscribe(
            self.tenant_id, user_id, conversation_topic(self.tenant_id, conversation.id), since=conversation.last_seq
        )
        await self._event(conversation.id, "member.joined", member=MemberView.of(member), conversation=conversation)

    async def _remove(self, conversation: Conversation, user_id: UUID) -> None:
        member = await self.member(conversation.id, user_id)
        if member is None:
            return
        await self.session.delete(member)
        await self.session.flush()
        await self._event(conversation.id, "member.left", removed_user_id=user_id, conversation=conversation)
        self.effects.unsubscribe(self.tenant_id, user_id, conversation_topic(self.tenant_id, conversation.id))

    async def _event(
        self,
        conversation_id: UUID,
        kind: Literal["member.joined", "member.left", "member.updated"],
        *,
        member: MemberView | None = None,
        removed_user_id: UUID | None = None,
        conversation: Conversation | None = None,
    ) -> None:
        conversation = conversation or await lock_conversation(self.session, conversation_id)
        self.effects.publish(
            await append_event(
                self.session,
                conversation,
                kind=kind,
                actor_id=self.user_id,
                member=member,
                removed_user_id=removed_user_id,
            )
        )


def _row(
    *, tenant_id: UUID, kind: str, created_by: UUID, name: str | None = None, dm_key: str | None = None
) -> dict[str, object]:
    now = datetime.now(UTC)
    return {
        "id": uuid7(),
        "tenant_id": tenant_id,
        "kind": kind,
        "name": name,
        "topic": "",
        "purpose": "",
        "created_by": created_by,
        "last_seq": 0,
        "dm_key": dm_key,
        "created_at": now,
        "updated_at": now,
    }


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def count_members(session: AsyncSession, conversation_id: UUID) -> int:
    """How many members a conversation has."""
    return int(
        await session.scalar(select(func.count()).where(ConversationMember.conversation_id == conversation_id)) or 0
    )
