"""A uvicorn server that drains the hub on SIGTERM: clients are told to reconnect elsewhere, in-flight
frames finish, and only then does uvicorn close the sockets (1012) and stop."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import uvicorn

if TYPE_CHECKING:
    from types import FrameType

    from hub.hub import Hub


class DrainingServer(uvicorn.Server):
    """``uvicorn.Server`` that runs :meth:`Hub.drain` before its own shutdown (a second signal stops at once).

    Args:
        config: the uvicorn configuration (a single process: ``workers=1``).
        hub: the node's hub.
    """

    def __init__(self, config: uvicorn.Config, hub: Hub) -> None:
        super().__init__(config)
        self._hub = hub
        self._draining: asyncio.Task[None] | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._draining is None and not self.should_exit:
            self._draining = asyncio.get_running_loop().create_task(self._drain_then_exit(sig, frame))
            return
        super().handle_exit(sig, frame)

    async def _drain_then_exit(self, sig: int, frame: FrameType | None) -> None:
        await self._hub.drain("shutdown")
        super().handle_exit(sig, frame)
