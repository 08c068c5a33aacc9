"""The listening socket of ``serve --workers N``: each worker process binds its own with ``SO_REUSEPORT``.

uvicorn's workers share one listening socket, and whichever process wakes first accepts: in ``bench.api``
one of two workers did three times the other's work (60 s of CPU against 21 s over the same minute, the
sign-ins included; docs/benchmarks.md), and a keep-alive connection stays with the worker that took it.
With a socket of its own per worker in one ``SO_REUSEPORT`` group, the kernel spreads connections over
the workers by their addresses (54 s and 54 s in the same run).
"""

from __future__ import annotations

import socket
import sys
from typing import Any


def spreads_connections() -> bool:
    """Whether this platform balances connections over ``SO_REUSEPORT`` sockets (Linux does; macOS does not)."""
    return sys.platform == "linux" and hasattr(socket, "SO_REUSEPORT")


def reuse_port_socket(address: tuple[Any, ...], family: int) -> socket.socket:
    """A TCP socket bound to ``address`` in its port's ``SO_REUSEPORT`` group (not listening yet)."""
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(address)
    return sock


class WorkerListener(socket.socket):
    """The serving address as the supervisor holds it: bound (so a taken port fails at once) but never listening.

    Handed to a worker process, it is not shared but bound anew there (:meth:`__reduce__`): the worker listens
    on a socket of its own in the same ``SO_REUSEPORT`` group.
    """

    def __reduce__(self) -> tuple[Any, ...]:
        return (reuse_port_socket, (self.getsockname(), self.family))


def worker_listener(host: str, port: int) -> WorkerListener:
    """The supervisor's :class:`WorkerListener` for ``host:port``."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = WorkerListener(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock
