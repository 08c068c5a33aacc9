"""Conversations over HTTP: list with unread counts, browse, create, direct and group, settings, membership."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, Response, delete, get, patch, post
from litestar.params import JSONBody, PathParameter, QueryParameter

from api.auth.guards import requires
from api.auth.permissions import Permission
from api.chat.deps import ConversationsDep, commit_and_publish, dependencies
from api.chat.schemas import (
    AddMembers,
    ConversationSummary,
    CreateChannel,
    MarkRead,
    OpenDirect,
    OpenGroup,
    Preferences,
    SetMemberRole,
    UnreadSummary,
    UpdateConversation,
)
from api.deps import RuntimeDep
from channels.reading import ReadState, Summary
from channels.views import ConversationView, MemberView
from persistence.models import Conversation

ConversationId = Annotated[UUID, PathParameter(description="The conversation.")]
UserId = Annotated[UUID, PathParameter(description="The member.")]


class ConversationController(Controller):
    path = "/api/v1/conversations"
    tags = ["chat"]
    guards = [requires(Permission.CHAT_USE)]
    dependencies = dependencies

    @get("/", operation_id="ListConversations")
    async def list_mine(self, conversations: ConversationsDep) -> list[ConversationSummary]:
        """The caller's conversations, most recently active first, with unread and mention counts.

        Each ``last_seq`` and its counts come from one snapshot: the unread messages are exactly those
        up to ``last_seq``, so a client counting live events past it counts none twice.
        """
        return [_summary(s) for s in await ReadState(conversations=conversations).summaries()]

    @get("/browse", operation_id="BrowseChannels")
    async def browse(
        self,
        conversations: ConversationsDep,
        q: Annotated[str | None, QueryParameter(description="Part of a channel name.", max_length=80)] = None,
    ) -> list[ConversationView]:
        """Public channels of the tenant, joined or not."""
        return [ConversationView.of(c) for c in await conversations.browse(q)]

    @get("/unread", operation_id="UnreadCounts")
    async def unread(self, conversations: ConversationsDep) -> UnreadSummary:
        """Unread and mention counts per conversation, and unread replies per followed thread."""
        state = ReadState(conversations=conversations)
        return UnreadSummary(conversations=await state.unread(), threads=await state.unread_threads())

    @post("/", operation_id="CreateChannel", status_code=201)
    async def create(
        self, data: JSONBody[CreateChannel], conversations: ConversationsDep, runtime: RuntimeDep
    ) -> ConversationView:
        """A public or private channel; the caller is its owner."""
        conversation = await conversations.create_channel(
            name=data.name, kind=data.kind, topic=data.topic, purpose=data.purpose, member_ids=data.member_ids
        )
        await commit_and_publish(runtime, conversations)
        return ConversationView.of(conversation)

    @post("/direct", operation_id="OpenDirectMessage", status_code=200)
    async def direct(
        self, data: JSONBody[OpenDirect], conversations: ConversationsDep, runtime: RuntimeDep
    ) -> Response[ConversationView]:
        """The one direct conversation with a person: 201 when created now, 200 when it existed."""
        conversation, created = await conversations.open_direct(data.user_id)
        await commit_and_publish(runtime, conversations)
        return Response(ConversationView.of(conversation), status_code=201 if created else 200)

    @post("/group", operation_id="OpenGroupMessage", status_code=201)
    async def group(
        self, data: JSONBody[OpenGroup], conversations: ConversationsDep, runtime: RuntimeDep
    ) -> ConversationView:
        """A group conversation of 3 to 8 people, the caller included."""
        conversation = await conversations.open_group(data.user_ids)
        await commit_and_publish(runtime, conversations)
        return ConversationView.of(conversation)

    @post("/read-all", operation_id="MarkAllRead", status_code=200)
    async def read_all(self, conversations: ConversationsDep) -> dict[str, int]:
        """Every conversation read to its end."""
        moved = await ReadState(conversations=conversations).mark_all_read()
        return {"conversations_marked": moved}

    @get("/{conversation_id:uuid}", operation_id="GetConversation")
    async def get_one(self, conversation_id: ConversationId, conversations: ConversationsDep) -> ConversationSummary:
        """One conversation the caller may see; for a member, its ``last_seq`` and unread counts from one snapshot."""
        found = await ReadState(conversations=conversations).summaries(conversation_id)
        if found:
            return _summary(found[0])
        conversation, member = await conversations.visible(conversation_id)  # a public channel not joined
        return ConversationSummary(
            conversation=ConversationView.of(conversation),
            membership=MemberView.of(member) if member else None,
            unread=0,
            mentions=0,
        )

    @patch("/{conversation_id:uuid}", operation_id="UpdateConversation")
    async def update(
        self,
        conversation_id: ConversationId,
        data: JSONBody[UpdateConversation],
        conversations: ConversationsDep,
        runtime: RuntimeDep,
    ) -> ConversationView:
        """Topic and purpose (any member); name (owners and admins)."""
        conversation = await conversations.update(
            conversation_id, name=data.name, topic=data.topic, purpose=data.purpose
        )
        await commit_and_publish(runtime, conversations)
        return ConversationView.of(conversation)

    @post("/{conversation_id:uuid}/archive", operation_id="ArchiveConversation", status_code=200)
    async def archive(
        self, conversation_id: ConversationId, conversations: ConversationsDep, runtime: RuntimeDep
    ) -> ConversationView:
        return await self._archived(conversation_id, conversations, runtime, archived=True)

    @post("/{conversation_id:uuid}/unarchive", operation_id="UnarchiveConversation", status_code=200)
    async def unarchive(
        self, conversation_id: ConversationId, conversations: ConversationsDep, runtime: RuntimeDep
    ) -> ConversationView:
        return await self._archived(conversation_id, conversations, runtime, archived=False)

    async def _archived(
        self, conversation_id: UUID, conversations: ConversationsDep, runtime: RuntimeDep, *, archived: bool
    ) -> ConversationView:
        conversation: Conversation = await conversations.set_archived(conversation_id, archived)
        await commit_and_publish(runtime, conversations)
        return ConversationView.of(conversation)

    @post("/{conversation_id:uuid}/join", operation_id="JoinChannel", status_code=200)
    async def join(
        self, conversation_id: ConversationId, conversations: ConversationsDep, runtime: RuntimeDep
    ) -> ConversationView:
        conversation = await conversations.join(conversation_id)
        await commit_and_publish(runtime, conversations)
        return ConversationView.of(conversation)

    @post("/{conversation_id:uuid}/leave", operation_id="LeaveConversation", status_code=204)
    async def leave(
        self, conversation_id: ConversationId, conversations: ConversationsDep, runtime: RuntimeDep
    ) -> None:
        await conversations.leave(conversation_id)
        await commit_and_publish(runtime, conversations)

    @get("/{conversation_id:uuid}/members", operation_id="ListMembers")
    async def members(self, conversation_id: ConversationId, conversations: ConversationsDep) -> list[MemberView]:
        return await conversations.members(conversation_id)

    @post("/{conversation_id:uuid}/members", operation_id="AddMembers", status_code=200)
    async def add_members(
        self,
        conversation_id: ConversationId,
        data: JSONBody[AddMembers],
        conversations: ConversationsDep,
        runtime: RuntimeDep,
    ) -> dict[str, list[UUID]]:
        """Invite people; answers who was added (those already in are skipped)."""
        added = await conversations.invite(conversation_id, data.user_ids)
        await commit_and_publish(runtime, conversations)
        return {"added": added}

    @delete("/{conversation_id:uuid}/members/{user_id:uuid}", operation_id="RemoveMember", status_code=204)
    async def remove_member(
        self, conversation_id: ConversationId, user_id: UserId, conversations: ConversationsDep, runtime: RuntimeDep
    ) -> None:
        await conversations.remove(conversation_id, user_id)
        await commit_and_publish(runtime, conversations)

    @patch("/{conversation_id:uuid}/members/{user_id:uuid}", operation_id="SetMemberRole")
    async def set_role(
        self,
        conversation_id: ConversationId,
        user_id: UserId,
        data: JSONBody[SetMemberRole],
        conversations: ConversationsDep,
        runtime: RuntimeDep,
    ) -> None:
        await conversations.set_role(conversation_id, user_id, data.role)
        await commit_and_publish(runtime, conversations)

    @patch("/{conversation_id:uuid}/preferences", operation_id="SetConversationPreferences")
    async def preferences(
        self, conversation_id: ConversationId, data: JSONBody[Preferences], conversations: ConversationsDep
    ) -> MemberView:
        """The caller's mute and notification level for this conversation."""
        member = await conversations.set_preferences(conversation_id, muted=data.muted, notify_level=data.notify_level)
        return MemberView.of(member)

    @post("/{conversation_id:uuid}/read", operation_id="MarkRead", status_code=200)
    async def read(
        self,
        conversation_id: ConversationId,
        data: JSONBody[MarkRead],
        conversations: ConversationsDep,
        runtime: RuntimeDep,
    ) -> dict[str, int]:
        position = await ReadState(conversations=conversations).mark_read(conversation_id, data.seq)
        await commit_and_publish(runtime, conversations)
        return {"last_read_seq": position}


def _summary(summary: Summary) -> ConversationSummary:
    return ConversationSummary(
        conversation=ConversationView.of(summary.conversation),
        membership=MemberView.of(summary.member),
        unread=summary.unread,
        mentions=summary.mentions,
    )
