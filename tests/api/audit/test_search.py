"""Audit search for admins: filters by actor, action, target and time range, and the streamed CSV export."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.runtime import Runtime
from persistence.audit_link import linking_done
from tests.api.audit.arrange import write_entries
from tests.api.identity.arrange import refusal
from tests.kit import TenantKit

Client = AsyncTestClient[Litestar]


async def test_search_filters_by_actor_action_prefix_and_target(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client, "admin")
    staff = tenant.users["staff"]
    await client.patch(f"/api/v1/users/{staff}", json={"name": "Renamed"}, headers=admin)
    await client.put(f"/api/v1/users/{staff}/roles", json={"roles": ["supervisor"]}, headers=admin)
    params = {"actor": str(tenant.users["admin"]), "action": "user.*", "target_type": "user", "target_id": str(staff)}
    found = (await client.get("/api/v1/audit", params=params, headers=admin)).json()
    assert [item["action"] for item in found["items"]] == ["user.roles.set", "user.update"]
    assert found["total"] == 2


async def test_search_filters_by_time_range(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    admin = await tenant.headers(client, "admin")
    start = datetime.now(UTC)
    await write_entries(runtime, tenant, 2)
    window = {"since": start.isoformat(), "until": (datetime.now(UTC) + timedelta(seconds=1)).isoformat()}
    found = (await client.get("/api/v1/audit", params={**window, "action": "test.entry"}, headers=admin)).json()
    assert found["total"] == 2
    before = {"until": start.isoformat(), "action": "test.entry"}
    assert (await client.get("/api/v1/audit", params=before, headers=admin)).json()["total"] == 0


async def test_a_range_ending_before_it_starts_is_refused(client: Client, tenant: TenantKit) -> None:
    now = datetime.now(UTC)
    params = {"since": now.isoformat(), "until": (now - timedelta(days=1)).isoformat()}
    admin = await tenant.headers(client, "admin")
    assert refusal(await client.get("/api/v1/audit", params=params, headers=admin)) == (400, "invalid_range")
    assert refusal(await client.get("/api/v1/audit/export", params=params, headers=admin)) == (400, "invalid_range")


async def exported(client: Client, kit: TenantKit) -> tuple[list[str], list[list[str]]]:
    response = await client.get(
        "/api/v1/audit/export", params={"action": "test.entry"}, headers=await kit.headers(client, "admin")
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    header, *rows = list(csv.reader(io.StringIO(response.text)))
    return header, rows


async def test_the_csv_export_streams_every_matching_entry_oldest_first(
    client: Client, tenant: TenantKit, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("api.identity.services.audit.CSV_BATCH", 2)  # three batches, two keyset steps
    await write_entries(runtime, tenant, 5)
    await linking_done()
    header, rows = await exported(client, tenant)
    assert header[:4] == ["seq", "occurred_at", "actor_user_id", "action"]
    assert [row[header.index("details")] for row in rows] == [f'{{"number": {n}}}' for n in range(5)]
    seqs = [int(row[0]) for row in rows]
    assert seqs == sorted(seqs)


async def test_search_and_export_show_entries_not_yet_linked_to_the_chain(
    client: Client, tenant: TenantKit, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    await linking_done()
    monkeypatch.setattr("persistence.models.privacy.link_soon", lambda engine, tenant_id: None)
    await write_entries(runtime, tenant, 2)
    found = await client.get(
        "/api/v1/audit", params={"action": "test.entry"}, headers=await tenant.headers(client, "admin")
    )
    header, rows = await exported(client, tenant)
    assert [item["details"] for item in found.json()["items"]] == [{"number": 1}, {"number": 0}]
    assert [(row[header.index("seq")], row[header.index("hash")]) for row in rows] == [("", ""), ("", "")]
    assert [row[header.index("details")] for row in rows] == ['{"number": 0}', '{"number": 1}']


async def test_staff_cannot_read_or_export_the_audit_trail(client: Client, tenant: TenantKit) -> None:
    staff = await tenant.headers(client, "staff")
    assert refusal(await client.get("/api/v1/audit/export", headers=staff)) == (403, "forbidden")
