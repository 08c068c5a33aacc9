"""Node-to-node commands on the control channel: live topic changes, session closes and the app's notices."""

from __future__ import annotations

import msgspec


class AddTopic(msgspec.Struct, tag_field="op", tag="add_topic", frozen=True):
    """Every socket of ``user_id`` in ``namespace`` starts listening to ``topic``.

    With ``since``, each socket first gets the topic's events after that ``seq`` replayed: events
    published before the node had subscribed (the command races them) are not lost.
    """

    namespace: str
    user_id: str
    topic: str
    since: int | None = None


class RemoveTopic(msgspec.Struct, tag_field="op", tag="remove_topic", frozen=True):
    """Every socket of ``user_id`` in ``namespace`` stops listening to ``topic``."""

    namespace: str
    user_id: str
    topic: str


class CloseSession(msgspec.Struct, tag_field="op", tag="close_session", frozen=True):
    """Close every socket opened with ``session_id``."""

    session_id: str
    code: int
    reason: str


class Notice(msgspec.Struct, tag_field="op", tag="notice", frozen=True, kw_only=True):
    """Something every node's app should hear of (a cache to drop, say); the hub only carries it."""

    kind: str
    data: str = ""


Command = AddTopic | RemoveTopic | CloseSession | Notice

_decoder = msgspec.json.Decoder(Command)
_encoder = msgspec.json.Encoder()


def encode_command(command: Command) -> bytes:
    """Encode one command for the broker."""
    return _encoder.encode(command)


def decode_command(data: bytes) -> Command:
    """Decode one command.

    Raises:
        msgspec.DecodeError: On anything but a well-formed command.
    """
    command: Command = _decoder.decode(data)
    return command
