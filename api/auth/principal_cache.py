"""A short in-process cache of resolved sessions, so most requests authenticate without a database round trip.

Bounds on staleness: a revoked session (logout, password change, disabling, erasure, moderation) is
forgotten on every node when the revocation is announced, after its commit (the hub's session close);
a committed change to a user's status, email or name, to roles or to grants empties this process's
cache once the ``COMMIT`` is done and, through ``on_identity_change`` (the app sends a hub notice),
every other serving process's a moment later. A read that raced the change is not kept (``generation``).
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
    from sqlalchemy.pool import ConnectionPoolEntry

    from api.auth.principal import CurrentUser

# Writes to these tables can change who a session's user is or what they may do: any write to roles and
# grants, and to users an update of what a principal holds (not, say, the failed sign-in counter, which
# anyone can move by guessing passwords) or a delete.
_GRANT_TABLES = frozenset({"user_role", "role"})
_PRINCIPAL_COLUMNS = frozenset({"status", "email", "name"})
_DIRTY = "fieldhub.principals_dirty"
_COMMITTED = "fieldhub.principals_committed"


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
        self.generation = 0
        """Moves on whenever entries are dropped: a principal read before that may be out of date."""
        self.on_identity_change: Callable[[], None] | None = None
        """Called once this process's write to an identity table is committed (the cache is empty by then)."""

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

    def put(self, key: bytes, user: CurrentUser, *, generation: int | None = None) -> None:
        """Keep ``user`` for ``key``; not if entries were dropped since ``generation`` (when the caller
        started reading ``user``), so a read racing a revocation or an identity change is not kept."""
        if self.ttl <= 0 or (generation is not None and generation != self.generation):
            return
        self._entries[key] = (self._clock(), user)
        self._entries.move_to_end(key)
        while len(self._entries) > self._capacity:
            self._entries.popitem(last=False)

    def forget_sessions(self, session_ids: Iterable[UUID]) -> None:
        """Drop every entry of these sessions (just revoked)."""
        gone = set(session_ids)
        self.generation += 1
        for key in [k for k, (_, user) in self._entries.items() if user.session_id in gone]:
            del self._entries[key]

    def clear(self) -> None:
        self.generation += 1
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def watch(self, engine: Engine) -> None:
        """Empty the cache whenever a transaction on ``engine`` that wrote an identity table has committed.

        SQLAlchemy's ``commit`` event comes before the ``COMMIT`` is sent; the cache is emptied when the
        connection goes back to the pool, after it, so a read in between cannot cache what is being
        replaced (and one that started earlier is refused by :meth:`put`'s generation).
        """
        event.listen(engine, "before_cursor_execute", self._note_identity_write)
        event.listen(engine, "commit", self._committing)
        event.listen(engine, "rollback", self._forget_note)
        event.listen(engine.pool, "checkin", self._checked_in)

    def unwatch(self, engine: Engine) -> None:
        """Stop following ``engine``."""
        event.remove(engine, "before_cursor_execute", self._note_identity_write)
        event.remove(engine, "commit", self._committing)
        event.remove(engine, "rollback", self._forget_note)
        event.remove(engine.pool, "checkin", self._checked_in)

    def _note_identity_write(
        self, connection: Connection, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        compiled = getattr(context, "compiled", None)
        if compiled is None or not (context.isinsert or context.isupdate or context.isdelete):
            return
        table = getattr(getattr(compiled.statement, "table", None), "name", None)
        if table in _GRANT_TABLES or (
            table == "app_user"
            and (context.isdelete or (context.isupdate and _PRINCIPAL_COLUMNS & compiled.binds.keys()))
        ):
            # Marked per cache: several caches (tests swap them) may watch one engine.
            connection.info.setdefault(_DIRTY, set()).add(id(self))

    def _committing(self, connection: Connection) -> None:
        dirty = connection.info.get(_DIRTY)
        if dirty and id(self) in dirty:
            dirty.discard(id(self))
            connection.info.setdefault(_COMMITTED, set()).add(id(self))

    def _checked_in(self, dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        committed = record.info.get(_COMMITTED)
        if committed and id(self) in committed:
            committed.discard(id(self))
            self.clear()
            if self.on_identity_change is not None:
                self.on_identity_change()

    def _forget_note(self, connection: Connection) -> None:
        connection.info.get(_DIRTY, set()).discard(id(self))
