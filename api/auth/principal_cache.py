"""A short in-process cache of resolved sessions, so most requests authenticate without a database round trip.

Bounds on staleness: a revoked session (logout, password change, disabling, erasure, moderation) is
forgotten on every node when the revocation is announced, after its commit (the hub's session close);
a committed write to users, roles or role grants empties this process's cache at once and, through
``on_identity_change`` (the app sends a hub notice), every other serving process's within a moment.
What no notice reaches (a write by the worker, a node cut off from Redis) is seen within ``ttl``
seconds at most (``FIELDHUB_AUTH_CACHE_SECONDS``); 0 turns the cache off.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import event

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from uuid import UUID

    from sqlalchemy.engine import Connection, Engine

    from api.auth.principal import CurrentUser

# Writes to these tables can change who a session's user is or what they may do.
_IDENTITY_TABLES = frozenset({"app_user", "user_role", "role"})
_DIRTY = "fieldhub.principals_dirty"


class PrincipalCache:
    """Resolved principals by session token digest, each kept at most ``ttl`` seconds.

    Args:
        ttl: seconds an entry may be served (0: nothing is kept).
        capacity: entries kept at most; the oldest go first.
        clock: monotonic seconds (tests move it by hand).
    """

    def __init__(self, *, ttl: float, capacity: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._capacity = capacity
        self._clock = clock
        self._entries: OrderedDict[bytes, tuple[float, CurrentUser]] = OrderedDict()
        self.on_identity_change: Callable[[], None] | None = None
        """Called after this process committed a write to an identity table (the cache is empty by then)."""

    def get(self, key: bytes) -> CurrentUser | None:
        """The principal cached for ``key``, unless it is older than ``ttl`` or its session has expired."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        stored_at, user = entry
        if self._clock() - stored_at >= self.ttl or user.expires_at <= datetime.now(UTC):
            del self._entries[key]
            return None
        return user

    def put(self, key: bytes, user: CurrentUser) -> None:
        if self.ttl <= 0:
            return
        self._entries[key] = (self._clock(), user)
        self._entries.move_to_end(key)
        while len(self._entries) > self._capacity:
            self._entries.popitem(last=False)

    def forget_sessions(self, session_ids: Iterable[UUID]) -> None:
        """Drop every entry of these sessions (just revoked)."""
        gone = set(session_ids)
        for key in [k for k, (_, user) in self._entries.items() if user.session_id in gone]:
            del self._entries[key]

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def watch(self, engine: Engine) -> None:
        """Empty the cache whenever a transaction on ``engine`` that wrote an identity table commits."""
        event.listen(engine, "before_cursor_execute", self._note_identity_write)
        event.listen(engine, "commit", self._after_commit)
        event.listen(engine, "rollback", self._forget_note)

    def unwatch(self, engine: Engine) -> None:
        """Stop following ``engine``."""
        event.remove(engine, "before_cursor_execute", self._note_identity_write)
        event.remove(engine, "commit", self._after_commit)
        event.remove(engine, "rollback", self._forget_note)

    def _note_identity_write(
        self, connection: Connection, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        compiled = getattr(context, "compiled", None)
        if compiled is None or not (context.isinsert or context.isupdate or context.isdelete):
            return
        table = getattr(compiled.statement, "table", None)
        if getattr(table, "name", None) in _IDENTITY_TABLES:
            # Marked per cache: several caches (tests swap them) may watch one engine.
            connection.info.setdefault(_DIRTY, set()).add(id(self))

    def _after_commit(self, connection: Connection) -> None:
        dirty = connection.info.get(_DIRTY)
        if dirty and id(self) in dirty:
            dirty.discard(id(self))
            self.clear()
            if self.on_identity_change is not None:
                self.on_identity_change()

    def _forget_note(self, connection: Connection) -> None:
        connection.info.get(_DIRTY, set()).discard(id(self))
