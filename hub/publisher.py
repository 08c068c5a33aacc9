"""``HubPublisher``: what any process (a web node or a worker) may send into the hub without sockets."""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from hub.connection import CLOSE_SESSION_REVOKED
from hub.control import AddTopic, CloseSession, Command, RemoveTopic, encode_command
from hub.fanout import now_us, pack
from hub.frames import Event, encode
from hub.outbox import Backlog, PublishQueue
from hub.topics import TopicError, belongs_to, namespace_of

if TYPE_CHECKING:
    from hub.broker import Broker


class HubPublisher:
    """Publishes events and node commands on a started broker.

    A worker process that serves no sockets (``fieldhub worker``) starts a broker, wraps it in a
    ``HubPublisher`` and publishes; web nodes use the same object through ``Hub``. Events and
    commands leave in the order they were given, through one :class:`~hub.outbox.PublishQueue`.

    Args:
        broker: A started broker.
        control_channel: Where node commands go.
        stamp: Stamp each event with its publish time, so receiving nodes can time fan-out (publish
            to socket write). Every node must read stamps (fieldhub since metrics were added).
        timeout_s: See :attr:`HubConfig.publish_timeout_s <hub.config.HubConfig.publish_timeout_s>`.
        give_up_s: See :attr:`HubConfig.publish_give_up_s <hub.config.HubConfig.publish_give_up_s>`.
    """

    def __init__(
        self,
        *,
        broker: Broker,
        control_channel: str = "hub:control",
        stamp: bool = False,
        timeout_s: float = 5.0,
        give_up_s: float = 15.0,
    ) -> None:
        self._queue = PublishQueue(broker=broker, timeout_s=timeout_s, give_up_s=give_up_s)
        self._control_channel = control_channel
        self._stamp = stamp

    async def publish(self, topic: str, payload: bytes, *, seq: int | None = None) -> None:
        """Send an event to every socket listening to ``topic``, on every node.

        Returns once the broker accepted the event, or, for a durable event (``seq`` given) that the
        broker cannot take now, once it is queued for retry: it is then published later, in order,
        or, if that fails for ``give_up_s``, the topic's listeners on every node get ``resync``.

        Args:
            topic: ``t:<namespace>:...``.
            payload: The event as JSON bytes; embedded verbatim, never re-encoded or validated.
            seq: The topic's gap-free sequence number for durable events, ``None`` for ephemeral ones.
                Publish after the commit that assigned it.

        Raises:
            ConnectionError: If an ephemeral event could not be published (it is dropped).
            TopicError: If ``topic`` is malformed.
        """
        if namespace_of(topic) is None:
            raise TopicError(f"malformed topic {topic!r}")
        frame = encode(Event(topic, seq, msgspec.Raw(payload)))
        data = pack(frame, seq, published_us=now_us() if self._stamp else None)
        await self._queue.put(topic, data, durable=seq is not None)

    async def add_topic(self, namespace: str, user_id: str, topic: str, *, since: int | None = None) -> None:
        """Make ``topic`` reach every socket of a user, on whatever node it is (a new membership).

        Returns once the command is published, before the sockets joined. Give ``since`` (the
        topic's last ``seq`` before the membership) when events follow at once: each socket then
        replays what was published while its node was still subscribing, with no gap.

        Raises:
            TopicError: If ``topic`` is not inside ``namespace``.
            ConnectionError: If the broker is unreachable.
        """
        if not belongs_to(topic, namespace):
            raise TopicError("topic outside the namespace")
        await self.command(AddTopic(namespace, user_id, topic, since))

    async def remove_topic(self, namespace: str, user_id: str, topic: str) -> None:
        """Stop ``topic`` reaching any socket of a user (a removed membership); see :meth:`add_topic`."""
        if not belongs_to(topic, namespace):
            raise TopicError("topic outside the namespace")
        await self.command(RemoveTopic(namespace, user_id, topic))

    async def close_session(
        self, session_id: str, code: int = CLOSE_SESSION_REVOKED, reason: str = "session_revoked"
    ) -> None:
        """Close every socket opened with ``session_id``, on every node, within a second or so.

        Raises:
            ConnectionError: If the broker is unreachable.
        """
        await self.command(CloseSession(session_id, code, reason))

    async def command(self, command: Command) -> None:
        """Publish a node command on the control channel (after every event published before it).

        Raises:
            ConnectionError: If the broker did not take it (it is dropped, not retried).
        """
        await self._queue.put(self._control_channel, encode_command(command), durable=False)

    @property
    def backlog(self) -> Backlog:
        """Publishes waiting for the broker (non-zero while it is slow or away)."""
        return self._queue.backlog

    async def aclose(self, *, wait_s: float) -> None:
        """Wait (at most ``wait_s``) for queued publishes to go out; drop the rest."""
        await self._queue.aclose(wait_s=wait_s)
