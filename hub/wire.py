"""Frames written straight to the socket: a server text frame (RFC 6455, unmasked) built once per
event and handed to uvicorn's transport, skipping the ASGI ``send`` coroutine and websockets'
framing, which were most of a node's Python work per delivery."""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING, Any

from websockets.protocol import OPEN

if TYPE_CHECKING:
    import asyncio

    from litestar.types import Send

try:
    from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
except ImportError:  # pragma: no cover - another server: frames go through the ASGI send
    WebSocketsSansIOProtocol = None  # type: ignore[assignment,misc]

_FIN_TEXT = 0x81
_SHORT = struct.Struct("!BB")
_MEDIUM = struct.Struct("!BBH")
_LONG = struct.Struct("!BBQ")


def text_frame(payload: bytes) -> bytes:
    """One final, unmasked text frame carrying ``payload`` (UTF-8 JSON), as a server sends it.

    Example: ``text_frame(b"{}")`` -> ``b"\\x81\\x02{}"``.
    """
    size = len(payload)
    if size < 126:
        head = _SHORT.pack(_FIN_TEXT, size)
    elif size < 65536:
        head = _MEDIUM.pack(_FIN_TEXT, 126, size)
    else:
        head = _LONG.pack(_FIN_TEXT, 127, size)
    return head + payload


class DirectWriter:
    """Writes ready-made frames to one uvicorn websockets-sansio connection while nothing stands in the way.

    Only while the socket is open and the transport takes writes at once (not paused by flow
    control), exactly when uvicorn's own ``send`` would have written without waiting; otherwise
    :meth:`write` declines and the caller goes through the ASGI ``send``, which waits.
    """

    __slots__ = ("_protocol", "_transport")

    def __init__(self, protocol: Any) -> None:
        self._protocol = protocol
        self._transport: asyncio.Transport = protocol.transport

    def write(self, frame: bytes) -> bool:
        """Write ``frame`` now; ``False`` (nothing written) when it has to go through the ASGI send."""
        protocol = self._protocol
        if (
            protocol.disconnected
            or protocol.close_sent
            or not protocol.writable.is_set()
            or protocol.conn.state is not OPEN
            or self._transport.is_closing()
        ):
            return False
        self._transport.write(frame)
        return True


def direct_writer(send: Send | None) -> DirectWriter | None:
    """A :class:`DirectWriter` for the connection behind the server's own ``send``, if it is one.

    ``None`` for any other server, or for a connection that negotiated an extension (a frame
    written past websockets would then skip it) or is not accepted yet.
    """
    protocol = getattr(send, "__self__", None)
    if WebSocketsSansIOProtocol is None or type(protocol) is not WebSocketsSansIOProtocol:
        return None
    if not protocol.handshake_complete or protocol.conn.extensions:
        return None
    return DirectWriter(protocol)
