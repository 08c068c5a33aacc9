"""Resume: replay providers by topic prefix, paged replay, and the outcome a client is told."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import msgspec

from hub.frames import Event, ResumeOutcome, encode_text
from hub.topics import local_part

if TYPE_CHECKING:
    from hub.hooks import Principal, ReplayProvider, ReplayStatus

log = logging.getLogger("hub.resume")


class Replay(msgspec.Struct, frozen=True, kw_only=True):
    """The result of replaying one topic for one socket.

    ``refused`` is ``forbidden`` or ``not_found`` when the provider refused the topic; then
    ``outcome`` and ``events`` are meaningless.
    """

    outcome: ResumeOutcome
    events: list[tuple[int, str]] = msgspec.field(default_factory=list)
    refused: ReplayStatus | None = None


class ReplayRouter:
    """Finds the replay provider of a topic by the longest registered prefix of its local part.

    Example: a provider registered for ``"conv:"`` serves ``"t:acme:conv:42"``.
    """

    def __init__(self, *, max_replay: int) -> None:
        self._max_replay = max_replay
        self._providers: list[tuple[str, ReplayProvider]] = []

    def register(self, prefix: str, provider: ReplayProvider) -> None:
        """Serve topics whose local part starts with ``prefix``.

        Raises:
            ValueError: If ``prefix`` is empty or already registered.
        """
        if not prefix or any(p == prefix for p, _ in self._providers):
            raise ValueError(f"replay prefix {prefix!r} is empty or already registered")
        self._providers.append((prefix, provider))
        self._providers.sort(key=lambda item: len(item[0]), reverse=True)

    def provider_for(self, topic: str) -> ReplayProvider | None:
        """The provider serving ``topic``, if any."""
        rest = local_part(topic)
        for prefix, provider in self._providers:
            if rest.startswith(prefix):
                return provider
        return None

    async def authorize(self, principal: Principal, topic: str) -> ReplayStatus:
        """Ask the topic's provider whether ``principal`` may listen; ``not_found`` without a provider."""
        provider = self.provider_for(topic)
        if provider is None:
            return "not_found"
        result = await provider(principal, topic, None, 0)
        return result.status

    async def replay(self, principal: Principal, topic: str, since: int) -> Replay:
        """Fetch every event of ``topic`` with ``seq > since``, page by page, as event frames.

        At most ``max_replay`` events are fetched; beyond that the outcome is ``too_far``. A provider
        that raises yields ``unavailable``.
        """
        provider = self.provider_for(topic)
        if provider is None:
            return Replay(outcome="no_history")
        events: list[tuple[int, str]] = []
        after = since
        while True:
            budget = self._max_replay - len(events)
            if budget <= 0:
                return Replay(outcome="too_far")
            try:
                result = await provider(principal, topic, after, budget)
            except Exception:
                log.exception("replay provider failed")
                return Replay(outcome="unavailable")
            if result.status in ("forbidden", "not_found"):
                return Replay(outcome="unavailable", refused=result.status)
            if result.status == "too_far":
                return Replay(outcome="too_far")
            for item in result.events:
                if item.seq <= after:
                    continue  # a provider returning old rows must not cause duplicates
                events.append((item.seq, encode_text(Event(topic, item.seq, msgspec.Raw(item.payload)))))
                after = item.seq
            if result.complete or not result.events:
                return Replay(outcome="recovered", events=events)
