"""Request and response bodies of the chat routes (views themselves come from ``channels.views``)."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

import msgspec

from api.schemas import RequestBody, ResponseBody
from channels.history import Page, SearchHit
from channels.reading import ThreadUnread, Unread
from channels.views import ConversationView, MemberView, MessageView, NotifyLevel

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=80)]
Short = Annotated[str, msgspec.Meta(max_length=250)]
ClientId = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Body = Annotated[str, msgspec.Meta(max_length=40_000)]
"""Bodies beyond the message limit are refused by the chat rules with ``message_too_long``."""


class CreateChannel(RequestBody):
    name: Name
    kind: Literal["public", "private"] = "public"
    topic: Short = ""
    purpose: Short = ""
    member_ids: Annotated[list[UUID], msgspec.Meta(max_length=1000)] = msgspec.field(default_factory=list)


class OpenDirect(RequestBody):
    user_id: UUID


class OpenGroup(RequestBody):
    user_ids: Annotated[list[UUID], msgspec.Meta(min_length=2, max_length=7)]


class UpdateConversation(RequestBody):
    name: Name | None = None
    topic: Short | None = None
    purpose: Short | None = None


class AddMembers(RequestBody):
    user_ids: Annotated[list[UUID], msgspec.Meta(min_length=1, max_length=1000)]


class SetMemberRole(RequestBody):
    role: Literal["admin", "member"]


class Preferences(RequestBody):
    muted: bool | None = None
    notify_level: NotifyLevel | None = None


class MarkRead(RequestBody):
    seq: Annotated[int, msgspec.Meta(ge=0)]


class PostMessage(RequestBody):
    client_id: ClientId
    body: Body = ""
    thread_root_id: UUID | None = None
    attachment_ids: Annotated[list[UUID], msgspec.Meta(max_length=10)] = msgspec.field(default_factory=list)


class EditMessage(RequestBody):
    body: Body


class ConversationSummary(ResponseBody):
    conversation: ConversationView
    unread: int
    """Top-level messages from others after the read position (always sent, 0 included)."""
    mentions: int
    membership: MemberView | None = None


class PostedMessage(ResponseBody):
    message: MessageView
    duplicate: bool = False


class ThreadPage(ResponseBody):
    root: MessageView
    replies: Page


class UnreadSummary(ResponseBody):
    conversations: list[Unread]
    threads: list[ThreadUnread]


class SearchResults(ResponseBody):
    hits: list[SearchHit]


class EditHistoryEntry(ResponseBody):
    previous_body: str
    edited_at: str
    editor_id: UUID | None = None


__all__ = [
    "AddMembers",
    "ConversationSummary",
    "CreateChannel",
    "EditHistoryEntry",
    "EditMessage",
    "MarkRead",
    "OpenDirect",
    "OpenGroup",
    "Page",
    "PostMessage",
    "PostedMessage",
    "Preferences",
    "SearchResults",
    "SetMemberRole",
    "ThreadPage",
    "UnreadSummary",
    "UpdateConversation",
]
