"""Lateness on the supervisor's board: with a moved clock a late person is listed at their workplace (and an absent
one as absent), nobody else's workplace lists them, and the worker's lateness job puts them on the board topic."""

from __future__ import annotations

from datetime import timedelta

from api.board.realtime import publish_live_from_worker
from api.board.services import read_board
from api.runtime import Runtime
from api.settings import Settings
from tests.api.fieldops.fieldkit import Client, make_workplace
from tests.api.fieldops.test_board_api import board_socket, heard, node
from tests.api.fieldops.test_lateness_job import STARTS, run_job, shift_at
from tests.kit import TenantKit
from tests.nodes import AppNode

__all__ = ["node"]


async def late_at(runtime: Runtime, tenant: TenantKit, minutes: int) -> dict[str, list[tuple[str, int, bool]]]:
    """Per workplace id: ``(name, minutes_late, absent)`` of who the board lists as late ``minutes`` after STARTS."""
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        board = await read_board(session, now=STARTS + timedelta(minutes=minutes))
    return {str(w.workplace_id): [(p.name, p.minutes_late, p.absent) for p in w.late] for w in board.workplaces}


async def test_a_late_person_appears_at_their_workplace_on_the_board(
    client: Client, tenant: TenantKit, runtime: Runtime
) -> None:
    workplace_id = await shift_at(client, tenant)
    elsewhere = await make_workplace(client, await tenant.headers(client))
    assert (await late_at(runtime, tenant, 5))[workplace_id] == []
    late = await late_at(runtime, tenant, 25)
    assert late[workplace_id] == [("Staff", 25, False)]
    assert late[elsewhere["id"]] == []


async def test_a_missed_shift_shows_as_an_absence(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    workplace_id = await shift_at(client, tenant)
    assert (await late_at(runtime, tenant, 9 * 60))[workplace_id] == [("Staff", 8 * 60, True)]


async def test_the_lateness_job_puts_the_late_person_on_the_board_topic(
    node: AppNode, client: Client, tenant: TenantKit, runtime: Runtime, settings: Settings
) -> None:
    workplace_id = await shift_at(client, tenant)
    async with await board_socket(node, client, tenant) as ws:
        stop = await publish_live_from_worker(runtime.db, redis_url=settings.redis_url)
        try:
            await run_job(runtime, tenant, STARTS + timedelta(minutes=15))
        finally:
            await stop()
        event = await heard(ws, tenant, "board.late")
    assert (event["workplace_id"], event["user_id"]) == (workplace_id, str(tenant.users["staff"]))
    assert (event["name"], event["minutes_late"], event["absent"]) == ("Staff", 15, False)
