"""A connection of the hub's write-path tests: its writer started and parked, frames going to ``send``."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from hub.config import HubConfig
from hub.connection import Connection
from hub.hooks import Principal

if TYPE_CHECKING:
    from litestar.types import Send


async def parked(send: Send, connection_id: str = "c1") -> Connection:
    """A connection whose writer is started and parked (nothing queued)."""
    connection = Connection(
        socket=None,  # type: ignore[arg-type]  (frames go through ``send``)
        send=send,
        principal=Principal(user_id="u1", namespace="acme", session_id="s1"),
        connection_id=connection_id,
        config=HubConfig(),
    )
    connection.start_writer()
    await asyncio.sleep(0)  # the writer's first step: it finds nothing queued and parks
    return connection
