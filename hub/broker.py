"""The ``Broker`` seam: moves opaque bytes between nodes on named channels, never sees a frame type."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from typing import Protocol


class BrokerListener(Protocol):
    """Receives what a broker hears. Called on the event loop; must not block."""

    def on_message(self, channel: str, data: bytes) -> None:
        """One message published on a subscribed ``channel``."""
        ...

    def on_connection_lost(self) -> None:
        """The broker lost its server; messages published from now on may be missed."""
        ...

    def on_connection_restored(self) -> None:
        """The broker is back and re-subscribed; anything published while it was away is lost."""
        ...


class Broker(ABC):
    """Carries bytes published on a channel to every node subscribed to it."""

    @abstractmethod
    async def on_startup(self, listener: BrokerListener) -> None:
        """Connect and start delivering messages to ``listener``.

        Raises:
            ConnectionError: If the server cannot be reached at startup.
        """

    @abstractmethod
    async def on_shutdown(self) -> None:
        """Stop delivering and release connections; idempotent."""

    @abstractmethod
    async def publish(self, data: bytes, channels: Iterable[str]) -> None:
        """Publish ``data`` on every channel in ``channels``.

        Returns once the server accepted it, not once subscribers received it. Delivery is at most
        once: a node that is disconnected at that moment misses it.

        Raises:
            ConnectionError: If the server is unreachable.
        """

    async def publish_batch(self, messages: Sequence[tuple[str, bytes]]) -> None:
        """Publish each ``(channel, data)`` in order; brokers that can send them in one round trip do.

        Returns once the server accepted all of them. On failure some may have been published.

        Raises:
            ConnectionError: If the server is unreachable.
        """
        for channel, data in messages:
            await self.publish(data, [channel])

    @abstractmethod
    async def subscribe(self, channels: Iterable[str]) -> None:
        """Start receiving ``channels``.

        Returns once the server confirmed the subscription, so that anything published after the
        return reaches the listener (while connected). Subscribing twice is harmless.
        """

    @abstractmethod
    async def unsubscribe(self, channels: Iterable[str]) -> None:
        """Stop receiving ``channels``; returns without waiting for the server's confirmation."""
