"""In-process broker for a single node and for tests: channels live in one dict, no server."""

from __future__ import annotations

from collections.abc import Iterable

from hub.broker import Broker, BrokerListener


class MemoryBroker(Broker):
    """Delivers each publish synchronously to the one local listener, if subscribed."""

    def __init__(self) -> None:
        self._listener: BrokerListener | None = None
        self._channels: set[str] = set()

    async def on_startup(self, listener: BrokerListener) -> None:
        """Attach ``listener``; nothing to connect to."""
        self._listener = listener

    async def on_shutdown(self) -> None:
        """Detach the listener and forget subscriptions."""
        self._listener = None
        self._channels.clear()

    async def publish(self, data: bytes, channels: Iterable[str]) -> None:
        """Hand ``data`` to the listener for every subscribed channel in ``channels``."""
        listener = self._listener
        if listener is None:
            return
        for channel in channels:
            if channel in self._channels:
                listener.on_message(channel, data)

    async def subscribe(self, channels: Iterable[str]) -> None:
        """Start receiving ``channels``; effective immediately."""
        self._channels.update(channels)

    async def unsubscribe(self, channels: Iterable[str]) -> None:
        """Stop receiving ``channels``."""
        self._channels.difference_update(channels)
