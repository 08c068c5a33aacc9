"""Topic names and tenant fencing: every topic and Redis key is ``t:<namespace>:<rest>``."""

from __future__ import annotations

PREFIX = "t:"


class TopicError(ValueError):
    """A topic or namespace is malformed, or crosses into another namespace."""


def check_namespace(namespace: str) -> str:
    """Return ``namespace`` if it can head a topic.

    Args:
        namespace: The opaque tenant string of a principal, e.g. ``"acme"``.

    Raises:
        TopicError: If it is empty or holds ``:`` (which would let it forge another tenant's prefix).
    """
    if not namespace or ":" in namespace:
        raise TopicError("namespace must be non-empty and must not contain ':'")
    return namespace


def topic(namespace: str, rest: str) -> str:
    """Build a topic name: ``topic("acme", "conv:42")`` -> ``"t:acme:conv:42"``.

    Raises:
        TopicError: If the namespace is malformed or ``rest`` is empty.
    """
    if not rest:
        raise TopicError("topic rest must be non-empty")
    return f"{PREFIX}{check_namespace(namespace)}:{rest}"


def user_topic(namespace: str, user_id: str) -> str:
    """The private topic every socket of a user listens to: ``t:acme:user:u1``."""
    return topic(namespace, f"user:{user_id}")


def namespace_of(name: str) -> str | None:
    """The namespace a topic belongs to: ``"t:acme:conv:42"`` -> ``"acme"``; ``None`` if malformed."""
    if not name.startswith(PREFIX):
        return None
    namespace, sep, rest = name[len(PREFIX) :].partition(":")
    if not sep or not namespace or not rest:
        return None
    return namespace


def local_part(name: str) -> str:
    """The part after the namespace: ``"t:acme:conv:42"`` -> ``"conv:42"``."""
    return name[len(PREFIX) :].partition(":")[2]


def belongs_to(name: str, namespace: str) -> bool:
    """Whether topic ``name`` is well formed and inside ``namespace`` (the tenant fence)."""
    return namespace_of(name) == namespace
