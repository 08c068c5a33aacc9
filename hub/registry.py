"""The node's connection registry: every local socket, indexed by id, by user and by session."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from hub.connection import Connection

K = TypeVar("K")
UserKey = tuple[str, str]
"""``(namespace, user_id)``."""


class Registry:
    """Local sockets only; other nodes are reached through the control channel."""

    def __init__(self) -> None:
        self._by_id: dict[str, Connection] = {}
        self._by_user: dict[UserKey, set[Connection]] = {}
        self._by_session: dict[str, set[Connection]] = {}

    def __len__(self) -> int:
        return len(self._by_id)

    def __iter__(self) -> Iterator[Connection]:
        return iter(list(self._by_id.values()))

    def add(self, conn: Connection) -> None:
        """Index ``conn``."""
        principal = conn.principal
        self._by_id[conn.id] = conn
        self._by_user.setdefault((principal.namespace, principal.user_id), set()).add(conn)
        self._by_session.setdefault(principal.session_id, set()).add(conn)

    def remove(self, conn: Connection) -> None:
        """Forget ``conn``; unknown connections are ignored."""
        if self._by_id.pop(conn.id, None) is None:
            return
        principal = conn.principal
        _discard(self._by_user, (principal.namespace, principal.user_id), conn)
        _discard(self._by_session, principal.session_id, conn)

    def for_user(self, namespace: str, user_id: str) -> list[Connection]:
        """Local sockets of one user."""
        return list(self._by_user.get((namespace, user_id), ()))

    def for_session(self, session_id: str) -> list[Connection]:
        """Local sockets opened with one session."""
        return list(self._by_session.get(session_id, ()))

    def count_user(self, namespace: str, user_id: str) -> int:
        """How many local sockets one user holds."""
        return len(self._by_user.get((namespace, user_id), ()))


def _discard(index: dict[K, set[Connection]], key: K, conn: Connection) -> None:
    members = index.get(key)
    if members is not None:
        members.discard(conn)
        if not members:
            del index[key]
