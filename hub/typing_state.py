"""Typing indicators: ephemeral, throttled per socket and topic, expiring on the clients by themselves."""

from __future__ import annotations

import time


class TypingThrottle:
    """Decides which typing frames from clients are worth publishing.

    A client may send ``typing`` on every keystroke; the hub publishes "active" at most once per
    half TTL per socket and topic (clients keep showing it for the full TTL), and "stopped" only
    after an "active". Nothing is stored in Redis: a lost indicator simply expires.
    """

    def __init__(self, *, ttl_s: float) -> None:
        self._ttl_s = ttl_s
        self._last: dict[tuple[str, str], float] = {}

    @property
    def expires_in_ms(self) -> int:
        """How long clients show an indicator without a refresh."""
        return int(self._ttl_s * 1000)

    def should_publish(self, connection_id: str, topic: str, *, active: bool) -> bool:
        """Whether this typing frame should reach the topic.

        Example: two ``active`` frames 100 ms apart with a 6 s TTL -> ``True``, then ``False``.
        """
        key = (connection_id, topic)
        now = time.monotonic()
        if not active:
            return self._last.pop(key, None) is not None
        last = self._last.get(key)
        if last is not None and now - last < self._ttl_s / 2:
            return False
        self._last[key] = now
        return True

    def forget(self, connection_id: str, topics: set[str]) -> None:
        """Drop the state of a closed socket."""
        for topic in topics:
            self._last.pop((connection_id, topic), None)
