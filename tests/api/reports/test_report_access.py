"""Who sees which report rows: ``reports:read`` to run any, a supervisor only their workplaces' and people's rows,
``reports:all`` everyone's, and never another tenant's."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.api.fieldops.fieldkit import Client, assign, make_workplace, stay
from tests.api.identity.arrange import refusal, signed_in_with
from tests.api.reports.arrange import MARCH, report, rows_by
from tests.kit import TenantKit

MONDAY = datetime(2026, 3, 2, 8, tzinfo=UTC)
LATER = datetime(2026, 3, 2, 9, tzinfo=UTC)


async def test_reports_need_the_reports_read_permission(client: Client, tenant: TenantKit) -> None:
    staff = await tenant.headers(client, "staff")
    for path in ("/api/v1/reports", "/api/v1/reports/incidents", "/api/v1/reports/incidents.csv"):
        assert refusal(await client.get(path, params=MARCH, headers=staff)) == (403, "forbidden"), path
    allowed = await signed_in_with(client, tenant, ["reports:read"])
    assert (await client.get("/api/v1/reports/incidents", params=MARCH, headers=allowed)).status_code == 200


async def test_a_supervisor_sees_only_the_workplaces_they_supervise_and_their_people(
    client: Client, tenant: TenantKit
) -> None:
    admin = await tenant.headers(client)
    mine = await make_workplace(client, admin, code="MINE")
    theirs = await make_workplace(client, admin, code="THEIRS")
    supervisor, staff = tenant.users["supervisor"], tenant.users["staff"]
    stranger = await tenant.add_user("stranger", roles=["staff"])
    await assign(client, admin, mine["id"], supervisor, role="supervisor")
    await assign(client, admin, mine["id"], staff)
    await stay(tenant, staff, mine["id"], MONDAY, LATER)
    await stay(tenant, stranger, theirs["id"], MONDAY, LATER)

    seen = rows_by(await report(client, await tenant.headers(client, "supervisor"), "store_visits"), "workplace_code")
    everything = rows_by(await report(client, admin, "store_visits"), "workplace_code")

    assert set(seen) == {"MINE"}
    assert set(everything) == {"MINE", "THEIRS"}


async def test_a_supervisor_asking_for_someone_outside_their_scope_gets_no_rows(
    client: Client, tenant: TenantKit
) -> None:
    admin = await tenant.headers(client)
    place = await make_workplace(client, admin)
    stranger = await tenant.add_user("stranger", roles=["staff"])
    await stay(tenant, stranger, place["id"], MONDAY, LATER)
    supervisor = await tenant.headers(client, "supervisor")

    body = await report(client, supervisor, "store_visits", **MARCH, user_id=str(stranger))

    assert body["rows"] == []
    assert len((await report(client, admin, "store_visits", **MARCH, user_id=str(stranger)))["rows"]) == 1


async def test_another_tenant_never_sees_the_rows(client: Client, tenant: TenantKit, other_tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    place = await make_workplace(client, admin)
    await stay(tenant, tenant.users["staff"], place["id"], MONDAY, LATER)
    outsider = await other_tenant.headers(client)

    assert (await report(client, outsider, "store_visits"))["rows"] == []
    filtered = await report(client, outsider, "store_visits", **MARCH, workplace_id=place["id"])
    assert filtered["rows"] == []
    as_csv = await client.get("/api/v1/reports/store_visits.csv", params=MARCH, headers=outsider)
    assert as_csv.text.count("\n") == 1  # the header alone
