"""History, search and reports over HTTP read from a real streaming replica while it is fresh, from the
primary while its replay is paused, from the replica again once it resumes, and from the primary for a
user who has just written. Which database served a request is read from ``fieldhub_db_reads_total``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from httpx import Response
from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.runtime import Runtime
from persistence.replica import Served, Why
from tests.api.metrics.scrape import sample, total
from tests.channels.chat import channel, say
from tests.kit import TenantKit, eventually
from tests.pgcluster import StreamingPair

Client = AsyncTestClient[Litestar]


async def _served(client: Client, served: Served, why: Why) -> float:
    return total((await client.get("/metrics")).text, "fieldhub_db_reads_total", served=served, why=why)


async def _routed(
    client: Client, served: Served, why: Why, request: Callable[[], Awaitable[Response]], *, reads: int = 1
) -> tuple[Response, bool]:
    """Send ``request``; return its response and whether it made exactly ``reads`` reads served as said."""
    before = await _served(client, served, why)
    response = await request()
    return response, await _served(client, served, why) - before == reads


def _history(client: Client, headers: dict[str, Any], room: object) -> Callable[[], Awaitable[Response]]:
    return lambda: client.get(f"/api/v1/conversations/{room}/messages", headers=headers)


def _search(client: Client, headers: dict[str, Any], words: str) -> Callable[[], Awaitable[Response]]:
    return lambda: client.get("/api/v1/search/messages", params={"q": words}, headers=headers)


def _bodies(response: Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [message["body"] for message in response.json()["messages"]]


async def _on(
    client: Client, served: Served, why: Why, request: Callable[[], Awaitable[Response]], *, reads: int = 1
) -> Response | None:
    """The response of ``request`` if it was answered (200) from ``served`` for ``why``, else ``None``."""
    response, counted = await _routed(client, served, why, request, reads=reads)
    return response if counted and response.status_code == 200 else None


@pytest.mark.usefixtures("lenient_bound")
async def test_history_and_search_are_read_from_the_replica(
    replica_client: Client, primary_runtime: Runtime, replica_tenant: TenantKit, streaming_pair: StreamingPair
) -> None:
    staff = await replica_tenant.headers(replica_client, "staff")
    room = await channel(primary_runtime, replica_tenant, members=("staff",))
    await say(primary_runtime, replica_tenant, "admin", room, "freezer leaking in aisle four")
    await eventually(lambda: _on(replica_client, "replica", "fresh", _history(replica_client, staff, room)))
    await streaming_pair.set_replay(paused=True)
    try:
        await say(primary_runtime, replica_tenant, "admin", room, "plumber booked for noon")

        history, from_replica = await _routed(replica_client, "replica", "fresh", _history(replica_client, staff, room))
        found, searched_replica = await _routed(
            replica_client, "replica", "fresh", _search(replica_client, staff, "plumber")
        )
    finally:
        await streaming_pair.set_replay(paused=False)

    # The replica answered with what it had replayed: the message written after the pause is not there.
    assert from_replica
    assert searched_replica
    assert _bodies(history) == ["freezer leaking in aisle four"]
    assert found.json()["hits"] == []


@pytest.mark.usefixtures("paused_replay")
async def test_reads_fall_back_to_the_primary_while_replay_is_paused(
    replica_client: Client, primary_runtime: Runtime, replica_tenant: TenantKit
) -> None:
    staff = await replica_tenant.headers(replica_client, "staff")
    room = await channel(primary_runtime, replica_tenant, members=("staff",))
    await say(primary_runtime, replica_tenant, "admin", room, "delivery arrives at six")

    history = await eventually(lambda: _on(replica_client, "primary", "lagging", _history(replica_client, staff, room)))
    found = await eventually(
        lambda: _on(replica_client, "primary", "lagging", _search(replica_client, staff, "delivery"))
    )

    assert _bodies(history) == ["delivery arrives at six"]
    assert [hit["message"]["body"] for hit in found.json()["hits"]] == ["delivery arrives at six"]


async def test_reads_return_to_the_replica_once_replay_resumes(
    replica_client: Client, primary_runtime: Runtime, replica_tenant: TenantKit, streaming_pair: StreamingPair
) -> None:
    staff = await replica_tenant.headers(replica_client, "staff")
    room = await channel(primary_runtime, replica_tenant, members=("staff",))
    await streaming_pair.set_replay(paused=True)
    try:
        await say(primary_runtime, replica_tenant, "admin", room, "shelves restocked")
        await eventually(lambda: _on(replica_client, "primary", "lagging", _history(replica_client, staff, room)))
    finally:
        await streaming_pair.set_replay(paused=False)

    history = await eventually(lambda: _on(replica_client, "replica", "fresh", _history(replica_client, staff, room)))

    assert _bodies(history) == ["shelves restocked"]


async def test_a_user_who_just_posted_reads_from_the_primary(
    replica_client: Client, primary_runtime: Runtime, replica_tenant: TenantKit
) -> None:
    staff = await replica_tenant.headers(replica_client, "staff")
    room = await channel(primary_runtime, replica_tenant, members=("staff",))
    await eventually(lambda: _on(replica_client, "replica", "fresh", _history(replica_client, staff, room)))
    posted = await replica_client.post(
        f"/api/v1/conversations/{room}/messages", json={"client_id": "rw-1", "body": "on my way"}, headers=staff
    )
    assert posted.status_code == 201, posted.text

    history, from_primary = await _routed(
        replica_client, "primary", "recent_write", _history(replica_client, staff, room)
    )

    assert from_primary
    assert _bodies(history) == ["on my way"]


async def test_a_report_is_read_from_the_replica(replica_client: Client, replica_tenant: TenantKit) -> None:
    admin = await replica_tenant.headers(replica_client, "admin")

    report = await eventually(
        lambda: _on(
            replica_client,
            "replica",
            "fresh",
            lambda: replica_client.get("/api/v1/reports/chat_activity", headers=admin),
        )
    )

    assert report.json()["template"] == "chat_activity"


async def test_a_csv_report_streams_from_the_replica(replica_client: Client, replica_tenant: TenantKit) -> None:
    admin = await replica_tenant.headers(replica_client, "admin")

    csv = lambda: replica_client.get("/api/v1/reports/chat_activity.csv", headers=admin)  # noqa: E731

    # Two reads: preparing the report in the request, then the streamed rows in their own transaction.
    report = await eventually(lambda: _on(replica_client, "replica", "fresh", csv, reads=2))

    assert "name" in report.text.splitlines()[0].split(",")


async def test_the_replica_gauges_report_a_usable_replica_and_its_lag(
    replica_client: Client, replica_tenant: TenantKit, streaming_pair: StreamingPair
) -> None:
    admin = await replica_tenant.headers(replica_client, "admin")
    await eventually(
        lambda: _on(
            replica_client,
            "replica",
            "fresh",
            lambda: replica_client.get("/api/v1/reports/chat_activity", headers=admin),
        )
    )
    label = f"127.0.0.1:{streaming_pair.replica.port}/postgres"

    exposed = (await replica_client.get("/metrics")).text

    assert sample(exposed, "fieldhub_db_replica_up", replica=label) == 1
    lag = sample(exposed, "fieldhub_db_replica_lag_seconds", replica=label)
    assert lag is not None
    assert 0 <= lag <= 1


async def test_a_write_mark_lasts_the_stick_window(primary_runtime: Runtime, replica_tenant: TenantKit) -> None:
    user = replica_tenant.users["staff"]
    await primary_runtime.recent_writes.mark(replica_tenant.id, user)
    key = primary_runtime.recent_writes.key(replica_tenant.id, user)

    remaining_ms = await primary_runtime.redis.pttl(key)

    assert await primary_runtime.recent_writes.check(replica_tenant.id, user)() is True
    assert (
        primary_runtime.reads.stick_seconds * 1000 - 1000 < remaining_ms <= primary_runtime.reads.stick_seconds * 1000
    )
