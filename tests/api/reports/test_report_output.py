"""A report's forms: the catalogue, JSON and CSV agreeing, the JSON row limit pointing to CSV, CSV streamed at
any size, and bad parameters refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from api.reports import output
from tests.api.fieldops.fieldkit import Client, make_workplace, stay
from tests.api.identity.arrange import refusal
from tests.api.reports.arrange import MARCH, parse_csv, report
from tests.kit import TenantKit

TEMPLATES = {
    "attendance_summary",
    "lateness",
    "overtime",
    "leave_balances",
    "task_completion",
    "store_visits",
    "incidents",
    "maintenance_sla",
    "chat_activity",
    "moderation",
}


async def test_the_catalogue_lists_every_template_with_its_parameters(client: Client, tenant: TenantKit) -> None:
    response = await client.get("/api/v1/reports", headers=await tenant.headers(client))
    catalogue = {item["key"]: item for item in response.json()}
    assert set(catalogue) == TEMPLATES
    assert catalogue["store_visits"]["parameters"] == ["from", "to", "department_id", "workplace_id", "user_id"]
    assert catalogue["overtime"]["parameters"] == ["from", "to", "department_id", "user_id"]


async def test_every_template_runs_on_an_empty_tenant(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    for key in TEMPLATES - {"leave_balances"}:
        assert (await report(client, admin, key))["rows"] == [], key


async def test_json_and_csv_carry_the_same_rows(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    place = await make_workplace(client, admin, name='Store "North", Lyon')
    await stay(
        tenant,
        tenant.users["staff"],
        place["id"],
        datetime(2026, 3, 2, 8, tzinfo=UTC),
        datetime(2026, 3, 2, 9, tzinfo=UTC),
    )
    await stay(tenant, tenant.users["admin"], place["id"], datetime(2026, 3, 3, 8, tzinfo=UTC), None)

    body = await report(client, admin, "store_visits")
    as_csv = await client.get("/api/v1/reports/store_visits.csv", params=MARCH, headers=admin)
    by_query = await client.get("/api/v1/reports/store_visits", params={**MARCH, "format": "csv"}, headers=admin)

    assert as_csv.status_code == 200
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert as_csv.text == by_query.text
    header, *lines = parse_csv(as_csv.text)
    assert header == body["columns"]
    assert lines == [["" if row[c] is None else str(row[c]) for c in header] for row in body["rows"]]
    assert lines[0][2] == 'Store "North", Lyon'


async def test_a_report_over_the_json_limit_is_refused_and_points_to_csv(
    client: Client, tenant: TenantKit, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = await tenant.headers(client)
    for _ in range(3):
        place = await make_workplace(client, admin)
        await stay(
            tenant,
            tenant.users["staff"],
            place["id"],
            datetime(2026, 3, 2, 8, tzinfo=UTC),
            datetime(2026, 3, 2, 9, tzinfo=UTC),
        )
    monkeypatch.setattr(output, "JSON_ROW_LIMIT", 2)

    response = await client.get("/api/v1/reports/store_visits", params=MARCH, headers=admin)

    assert refusal(response) == (422, "too_large_for_json")
    assert response.json()["error"]["details"] == {"limit": 2, "csv": "/api/v1/reports/store_visits.csv"}
    as_csv = await client.get("/api/v1/reports/store_visits.csv", params=MARCH, headers=admin)
    assert len(parse_csv(as_csv.text)) == 1 + 3


async def test_csv_streams_thousands_of_rows(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    staff = tenant.users["staff"]
    count = 2500
    async with tenant.runtime.db.transaction(tenant_id=tenant.id) as session:
        await session.execute(
            text(
                "INSERT INTO workplace (id, tenant_id, name, code, address, latitude, longitude, geofence_radius_m, "
                "timezone, opening_hours, status, created_at, updated_at) "
                "SELECT gen_random_uuid(), :tenant, 'Store ' || n, 'W' || lpad(n::text, 5, '0'), '', 48.0, 2.0, 100, "
                "'UTC', '{}', 'active', now(), now() FROM generate_series(1, :count) AS n"
            ),
            {"tenant": tenant.id, "count": count},
        )
        await session.execute(
            text(
                "INSERT INTO attendance_record (id, tenant_id, user_id, workplace_id, clock_in_at, clock_in_received_at, "
                "clock_in_offline, clock_in_latitude, clock_in_longitude, clock_in_distance_m, clock_out_at, "
                "clock_out_offline, clock_in_flagged, clock_out_flagged, created_at, updated_at) "
                "SELECT gen_random_uuid(), :tenant, :user, w.id, :at, :at, false, 48.0, 2.0, 0, CAST(:at AS timestamptz) + interval '1 hour', "
                "false, false, false, now(), now() FROM workplace w"
            ),
            {"tenant": tenant.id, "user": staff, "at": datetime(2026, 3, 2, 8, tzinfo=UTC)},
        )

    chunks: list[bytes] = []
    async with client.stream("GET", "/api/v1/reports/store_visits.csv", params=MARCH, headers=admin) as response:
        assert response.status_code == 200
        async for chunk in response.aiter_bytes():
            chunks.append(chunk)

    header, *lines = parse_csv(b"".join(chunks).decode())
    assert len(lines) == count
    assert {line[1] for line in lines} == {f"W{n:05d}" for n in range(1, count + 1)}
    assert all(line[header.index("minutes_on_site")] == "60" for line in lines)


async def test_bad_parameters_are_refused_with_stable_codes(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    cases = [
        ("nonsense", MARCH, (404, "unknown_report")),
        ("incidents", {"from": "2026-03-31", "to": "2026-03-01"}, (422, "invalid_range")),
        ("incidents", {"from": "2000-01-01", "to": "2026-03-01"}, (422, "invalid_range")),
        ("overtime", {**MARCH, "workplace_id": "0190a4f2-0000-7000-8000-000000000000"}, (422, "unsupported_parameter")),
        ("incidents", {"from": "yesterday"}, (400, "invalid_request")),
    ]
    for template, params, expected in cases:
        response = await client.get(f"/api/v1/reports/{template}", params=params, headers=admin)
        assert refusal(response) == expected, (template, params, response.text)
