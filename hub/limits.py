"""Per-connection token bucket: how many client frames a socket may send, in bursts and sustained."""

from __future__ import annotations

import time


class TokenBucket:
    """A token bucket refilled continuously; one token per client frame.

    Example: ``TokenBucket(burst=2, per_second=1.0)`` lets two frames through at once, then one a
    second. Not thread-safe; one bucket belongs to one socket on one event loop.
    """

    __slots__ = ("_burst", "_per_second", "_stamp", "_tokens")

    def __init__(self, *, burst: int, per_second: float) -> None:
        self._burst = float(burst)
        self._per_second = per_second
        self._tokens = float(burst)
        self._stamp = time.monotonic()

    def take(self) -> float:
        """Spend one token.

        Returns:
            ``0.0`` if a token was spent, else the seconds until one will be available.
        """
        now = time.monotonic()
        self._tokens = min(self._burst, self._tokens + (now - self._stamp) * self._per_second)
        self._stamp = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        if self._per_second <= 0:
            return float("inf")
        return (1.0 - self._tokens) / self._per_second
