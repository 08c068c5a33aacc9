"""Chat's WebSocket frames, registered with the hub: what a client sends and what it gets back."""

from __future__ import annotations

from uuid import UUID

import msgspec

from channels.errors import ChatErrorCode
from channels.views import MessageView
from hub import ClientFrame, ServerFrame


class Send(ClientFrame, tag="send", forbid_unknown_fields=True):
    """Post a message; ``client_id`` makes a retry safe (the original comes back, nothing is sent twice)."""

    conversation_id: UUID
    client_id: str
    body: str = ""
    thread_root_id: UUID | None = None
    attachment_ids: list[UUID] = msgspec.field(default_factory=list)


class Edit(ClientFrame, tag="edit", forbid_unknown_fields=True):
    message_id: UUID
    body: str


class Delete(ClientFrame, tag="delete", forbid_unknown_fields=True):
    message_id: UUID


class React(ClientFrame, tag="react", forbid_unknown_fields=True):
    """Add (``add``) or remove one emoji on a message."""

    message_id: UUID
    emoji: str
    add: bool = True


class Read(ClientFrame, tag="read", forbid_unknown_fields=True):
    """The user has read ``conversation_id`` up to ``seq`` (or a thread, with ``thread_root_id``)."""

    conversation_id: UUID
    seq: int
    thread_root_id: UUID | None = None


class View(ClientFrame, tag="view", forbid_unknown_fields=True):
    """Which conversation is on the user's screen now (``null``: none); mentions there notify no one."""

    conversation_id: UUID | None = None


class Ack(ServerFrame, tag="ack"):
    """A chat frame was committed. ``message`` for send and edit; ``duplicate`` when a retried send
    found its original."""

    message: MessageView | None = None
    duplicate: bool = False
    changed: bool | None = None
    last_read_seq: int | None = None


class Refused(ServerFrame, tag="refused"):
    """A well-formed chat frame that a chat rule refused; nothing was written. The socket stays open."""

    code: ChatErrorCode
    message: str
