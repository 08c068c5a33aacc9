"""What the assembled app does to its process when it starts."""

from __future__ import annotations

import gc

from litestar import Litestar
from litestar.testing import AsyncTestClient


async def test_the_started_app_has_frozen_its_startup_heap(client: AsyncTestClient[Litestar]) -> None:
    assert (await client.get("/health/live")).status_code == 200

    assert gc.get_freeze_count() > 0
