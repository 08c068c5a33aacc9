"""Messages over HTTP: history pages, posting (integrations), edits, deletes, threads, reactions, pins, search."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from litestar import Controller, Response, delete, get, patch, post, put
from litestar.params import JSONBody, PathParameter, QueryParameter

from api.auth.guards import requires
from api.auth.permissions import Permission
from api.chat.deps import ConversationsDep, SendsDep, commit_and_publish, dependencies
from api.chat.schemas import (
    EditHistoryEntry,
    EditMessage,
    Page,
    PostedMessage,
    PostMessage,
    SearchResults,
    ThreadPage,
)
from api.deps import CallerDep, OptionalId, RuntimeDep
from api.moderation.deps import ModerationDep
from api.moderation.deps import commit_and_publish as publish_moderation
from api.moderation.deps import dependencies as moderation_dependencies
from channels.batch import SendRequest
from channels.errors import ChatError
from channels.history import History
from channels.messages import Messages
from channels.moderation.actions import Enforcement
from channels.moderation.visibility import as_seen_by, states_of
from channels.reactions import reaction_counts
from channels.views import MessageView
from persistence.models import Message

MessageId = Annotated[UUID, PathParameter(description="The message.")]
ConversationId = Annotated[UUID, PathParameter(description="The conversation.")]
Emoji = Annotated[str, PathParameter(description="One emoji.", max_length=16)]
Seq = Annotated[int | None, QueryParameter(ge=0)]
Limit = Annotated[int, QueryParameter(ge=1, le=100)]
When = Annotated[datetime | None, QueryParameter()]


class HistoryController(Controller):
    path = "/api/v1/conversations/{conversation_id:uuid}/messages"
    tags = ["chat"]
    guards = [requires(Permission.CHAT_USE)]
    dependencies = dependencies

    @get("/", operation_id="ListMessages")
    async def page(
        self,
        conversation_id: ConversationId,
        read_conversations: ConversationsDep,
        before: Seq = None,
        after: Seq = None,
        around: Seq = None,
        limit: Limit = 50,
    ) -> Page:
        """Top-level messages by ``seq``: the latest, or ``before``/``after``/``around`` a seq (from the
        read replica while it is fresh)."""
        return await History(conversations=read_conversations).page(
            conversation_id, before=before, after=after, around=around, limit=limit
        )

    @post("/", operation_id="PostMessage", status_code=201)
    async def post_message(
        self,
        conversation_id: ConversationId,
        data: JSONBody[PostMessage],
        current_user: CallerDep,
        sends: SendsDep,
    ) -> Response[PostedMessage]:
        """Post a message (integrations; people send over the WebSocket). A retried ``client_id``
        returns the original with 200 and sends nothing again. Stored by the same group-commit
        writer as WebSocket sends, so it answers after the commit."""
        request = SendRequest(
            author_id=current_user.id,
            body=data.body,
            client_id=data.client_id,
            thread_root_id=data.thread_root_id,
            attachment_ids=tuple(data.attachment_ids),
        )
        sent = await sends.send(current_user.tenant_id, conversation_id, request)
        return Response(
            PostedMessage(message=sent.message, duplicate=not sent.created), status_code=201 if sent.created else 200
        )


class MessageController(Controller):
    path = "/api/v1/messages"
    tags = ["chat"]
    guards = [requires(Permission.CHAT_USE)]
    dependencies = {**dependencies, **moderation_dependencies}

    @patch("/{message_id:uuid}", operation_id="EditMessage")
    async def edit(
        self, message_id: MessageId, data: JSONBody[EditMessage], conversations: ConversationsDep, runtime: RuntimeDep
    ) -> MessageView:
        message = await Messages(conversations=conversations).edit(message_id, data.body)
        await commit_and_publish(runtime, conversations)
        return message

    @delete("/{message_id:uuid}", operation_id="DeleteMessage", status_code=204)
    async def remove(
        self,
        message_id: MessageId,
        conversations: ConversationsDep,
        moderation: ModerationDep,
        runtime: RuntimeDep,
        current_user: CallerDep,
        reason: Annotated[
            str | None,
            QueryParameter(max_length=1000, description="Why a moderator deletes someone else's message (required)."),
        ] = None,
    ) -> None:
        """The author deletes their message. A moderator deletes anyone's with a ``reason`` (422
        ``invalid_message`` without one): that resolves the message's moderation case by a delete,
        audited with the content as it was and appealable by the author."""
        message = await conversations.session.get(Message, message_id)
        if (
            message is not None
            and message.author_id != current_user.id
            and current_user.can(Permission.MODERATION_REVIEW)
        ):
            await Enforcement(moderation).delete_message(conversations, message_id, reason=reason or "")
            await publish_moderation(runtime, moderation)
            return
        await Messages(conversations=conversations).delete(message_id)
        await commit_and_publish(runtime, conversations)

    @get("/{message_id:uuid}/thread", operation_id="GetThread")
    async def thread(
        self, message_id: MessageId, read_conversations: ConversationsDep, after: Seq = None, limit: Limit = 50
    ) -> ThreadPage:
        root, replies = await History(conversations=read_conversations).thread(message_id, after=after, limit=limit)
        return ThreadPage(root=root, replies=replies)

    @get("/{message_id:uuid}", operation_id="GetMessage")
    async def get_message(self, message_id: MessageId, conversations: ConversationsDep) -> MessageView:
        """One message as the caller sees it (a linked reply tells its ``thread_root_id`` and ``seq``);
        404 for one the caller may not read."""
        session = conversations.session
        message = await session.get(Message, message_id)
        if message is None:
            raise ChatError("not_found", "No such message.")
        await conversations.visible(message.conversation_id)
        reactions = (await reaction_counts(session, [message.id])).get(message.id)
        state = (await states_of(session, [message.id])).get(message.id)
        return as_seen_by(MessageView.of(message, reactions), state, conversations.user_id)

    @get("/{message_id:uuid}/edits", operation_id="GetEditHistory")
    async def edits(self, message_id: MessageId, conversations: ConversationsDep) -> list[EditHistoryEntry]:
        """Earlier texts of an edited message, oldest first (none while moderation holds or hides
        the message from the caller: its history would show what the placeholder hides)."""
        rows = await Messages(conversations=conversations).edits(message_id)
        if rows and await states_of(conversations.session, [message_id]):
            message = await conversations.session.get(Message, message_id)  # loaded above: no query
            if message is None or message.author_id != conversations.user_id:
                return []
        return [
            EditHistoryEntry(previous_body=e.previous_body, edited_at=e.edited_at.isoformat(), editor_id=e.editor_id)
            for e in rows
        ]

    @put("/{message_id:uuid}/reactions/{emoji:str}", operation_id="AddReaction", status_code=200)
    async def add_reaction(
        self, message_id: MessageId, emoji: Emoji, conversations: ConversationsDep, runtime: RuntimeDep
    ) -> dict[str, bool]:
        changed = await Messages(conversations=conversations).react(message_id, emoji, add=True)
        await commit_and_publish(runtime, conversations)
        return {"changed": changed}

    @delete("/{message_id:uuid}/reactions/{emoji:str}", operation_id="RemoveReaction", status_code=200)
    async def remove_reaction(
        self, message_id: MessageId, emoji: Emoji, conversations: ConversationsDep, runtime: RuntimeDep
    ) -> dict[str, bool]:
        changed = await Messages(conversations=conversations).react(message_id, emoji, add=False)
        await commit_and_publish(runtime, conversations)
        return {"changed": changed}

    @put("/{message_id:uuid}/pin", operation_id="PinMessage", status_code=200)
    async def pin(self, message_id: MessageId, conversations: ConversationsDep, runtime: RuntimeDep) -> MessageView:
        message = await Messages(conversations=conversations).set_pinned(message_id, True)
        await commit_and_publish(runtime, conversations)
        return message

    @delete("/{message_id:uuid}/pin", operation_id="UnpinMessage", status_code=200)
    async def unpin(self, message_id: MessageId, conversations: ConversationsDep, runtime: RuntimeDep) -> MessageView:
        message = await Messages(conversations=conversations).set_pinned(message_id, False)
        await commit_and_publish(runtime, conversations)
        return message


class SearchController(Controller):
    path = "/api/v1/search"
    tags = ["chat"]
    guards = [requires(Permission.CHAT_USE)]
    dependencies = dependencies

    @get("/messages", operation_id="SearchMessages")
    async def search(
        self,
        read_conversations: ConversationsDep,
        q: Annotated[str, QueryParameter(min_length=1, max_length=200, description='Words, "phrases", -exclusions.')],
        conversation_id: OptionalId = None,
        author_id: OptionalId = None,
        since: When = None,
        until: When = None,
        limit: Limit = 20,
    ) -> SearchResults:
        """Messages the caller may read that match ``q``, newest first, with highlighted snippets (from
        the read replica while it is fresh)."""
        hits = await History(conversations=read_conversations).search(
            q, conversation_id=conversation_id, author_id=author_id, since=since, until=until, limit=limit
        )
        return SearchResults(hits=hits)
