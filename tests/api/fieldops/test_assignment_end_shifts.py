"""Ending a workplace assignment releases the person's shifts there that would start after it: one-off ones and
weekly ones not yet begun are cancelled, a weekly one under way ends with its last occurrence begun; earlier shifts,
shifts elsewhere and other people's are untouched; each change is audited, the person told of each shift and the
workplace's supervisors told once which shifts to cover, in the transaction that ends the assignment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from api.runtime import Runtime
from persistence.models import AuditEvent, Notification
from tests.api.fieldops.fieldkit import Client, assign, make_workplace
from tests.api.fieldops.test_shift_changes import shift_notices
from tests.api.fieldops.test_shifts_api import SHIFTS, one_off, weekly
from tests.api.identity.arrange import Headers
from tests.kit import TenantKit

LATER = ("2030-01-08T09:00:00+01:00", "2030-01-08T17:00:00+01:00")
EARLIER = ("2026-06-01T09:00:00+02:00", "2026-06-01T17:00:00+02:00")


@dataclass(frozen=True)
class Site:
    """A Paris workplace with the staff member (as staff) and the supervisor (as supervisor) assigned."""

    workplace_id: str
    assignment_id: str
    """The staff member's assignment."""
    admin: Headers
    supervisor: Headers

    async def plan(self, client: Client, body: dict[str, Any]) -> str:
        response = await client.post(SHIFTS, json=body, headers=self.supervisor)
        assert response.status_code == 201, response.text
        shift_id: str = response.json()["id"]
        return shift_id

    async def end(self, client: Client) -> None:
        path = f"/api/v1/workplaces/{self.workplace_id}/assignments/{self.assignment_id}"
        response = await client.delete(path, headers=self.admin)
        assert response.status_code == 200, response.text

    async def shift(self, client: Client, shift_id: str) -> dict[str, Any]:
        response = await client.get(f"{SHIFTS}/{shift_id}", headers=self.supervisor)
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found


async def site(client: Client, tenant: TenantKit) -> Site:
    admin = await tenant.headers(client)
    workplace = await make_workplace(client, admin)
    assignment_id = await assign(client, admin, workplace["id"], tenant.users["staff"])
    await assign(client, admin, workplace["id"], tenant.users["supervisor"], "supervisor")
    return Site(workplace["id"], assignment_id, admin, await tenant.headers(client, "supervisor"))


async def test_a_later_one_off_shift_there_is_cancelled(client: Client, tenant: TenantKit) -> None:
    here = await site(client, tenant)
    shift_id = await here.plan(client, one_off(tenant, here.workplace_id, *LATER))
    await here.end(client)
    shift = await here.shift(client, shift_id)
    assert shift.get("cancelled_at") is not None
    assert shift["cancel_reason"] == "No longer assigned to the workplace."


async def test_an_earlier_shift_there_is_untouched(client: Client, tenant: TenantKit) -> None:
    here = await site(client, tenant)
    shift_id = await here.plan(client, one_off(tenant, here.workplace_id, *EARLIER))
    before = await here.shift(client, shift_id)
    await here.end(client)
    assert await here.shift(client, shift_id) == before


async def test_shifts_at_another_workplace_are_untouched(client: Client, tenant: TenantKit) -> None:
    here, elsewhere = await site(client, tenant), await site(client, tenant)
    shift_id = await elsewhere.plan(client, one_off(tenant, elsewhere.workplace_id, *LATER))
    await here.end(client)
    assert (await elsewhere.shift(client, shift_id)).get("cancelled_at") is None


async def test_other_peoples_shifts_there_are_untouched(client: Client, tenant: TenantKit) -> None:
    here = await site(client, tenant)
    colleague = await tenant.add_user("Colleague", roles=["staff"])
    await assign(client, here.admin, here.workplace_id, colleague)
    body = one_off(tenant, here.workplace_id, *LATER) | {"user_id": str(colleague)}
    shift_id = await here.plan(client, body)
    await here.end(client)
    assert (await here.shift(client, shift_id)).get("cancelled_at") is None


async def test_a_weekly_shift_under_way_ends_with_its_last_occurrence_begun(client: Client, tenant: TenantKit) -> None:
    here = await site(client, tenant)
    shift_id = await here.plan(client, weekly(tenant, here.workplace_id, from_date="2026-03-02"))
    await here.end(client)
    shift = await here.shift(client, shift_id)
    assert shift.get("cancelled_at") is None
    # Monday to Friday at 09:00 Paris time: the last occurrence begun is at most three days old.
    today = datetime.now(UTC).date()
    assert today - timedelta(days=4) <= date.fromisoformat(shift["until_date"]) <= today
    later = {"from": "2030-01-07T00:00:00Z", "to": "2030-01-12T00:00:00Z"}
    occurrences = await client.get(f"{SHIFTS}/occurrences", params=later, headers=here.supervisor)
    assert occurrences.json() == []
    earlier = {"from": "2026-03-02T00:00:00Z", "to": "2026-03-03T00:00:00Z"}
    assert len((await client.get(f"{SHIFTS}/occurrences", params=earlier, headers=here.supervisor)).json()) == 1


async def test_a_weekly_shift_not_yet_begun_there_is_cancelled(client: Client, tenant: TenantKit) -> None:
    here = await site(client, tenant)
    shift_id = await here.plan(client, weekly(tenant, here.workplace_id, from_date="2030-01-07"))
    await here.end(client)
    assert (await here.shift(client, shift_id)).get("cancelled_at") is not None


async def test_a_weekly_shift_over_before_the_end_is_untouched(client: Client, tenant: TenantKit) -> None:
    here = await site(client, tenant)
    body = weekly(tenant, here.workplace_id, from_date="2026-03-02", until_date="2026-03-31")
    shift_id = await here.plan(client, body)
    before = await here.shift(client, shift_id)
    await here.end(client)
    assert await here.shift(client, shift_id) == before


async def test_the_person_is_told_of_each_released_shift(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    here = await site(client, tenant)
    await here.plan(client, one_off(tenant, here.workplace_id, *LATER))
    await here.plan(client, weekly(tenant, here.workplace_id, from_date="2026-03-02", weekdays=["sat"]))
    await here.end(client)
    notices = await shift_notices(runtime, tenant, tenant.users["staff"])
    assert sorted(notices) == ["cancelled", "changed", "planned", "planned"]


async def test_the_workplaces_supervisors_are_told_once_which_shifts_to_cover(
    client: Client, tenant: TenantKit, runtime: Runtime
) -> None:
    here = await site(client, tenant)
    cancelled = await here.plan(client, one_off(tenant, here.workplace_id, *LATER))
    shortened = await here.plan(client, weekly(tenant, here.workplace_id, from_date="2026-03-02", weekdays=["sat"]))
    await here.end(client)
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        rows = await session.scalars(
            select(Notification).where(
                Notification.user_id == tenant.users["supervisor"], Notification.category == "shift"
            )
        )
        [notice] = [row for row in rows if row.data.get("change") == "released"]
    assert (notice.data["user_id"], notice.data["cancelled"], notice.data["shortened"]) == (
        str(tenant.users["staff"]),
        [cancelled],
        [shortened],
    )


async def test_nobody_is_told_when_no_shift_is_released(client: Client, tenant: TenantKit, runtime: Runtime) -> None:
    here = await site(client, tenant)
    await here.plan(client, one_off(tenant, here.workplace_id, *EARLIER))
    await here.end(client)
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        rows = await session.scalars(select(Notification).where(Notification.category == "shift"))
        assert [row.data.get("change") for row in rows] == ["planned"]


async def test_each_released_shift_is_audited_with_the_assignment(
    client: Client, tenant: TenantKit, runtime: Runtime
) -> None:
    here = await site(client, tenant)
    shift_id = await here.plan(client, one_off(tenant, here.workplace_id, *LATER))
    await here.end(client)
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        cancel = await session.scalar(select(AuditEvent).where(AuditEvent.action == "shift.cancel"))
        unassign = await session.scalar(select(AuditEvent).where(AuditEvent.action == "workplace.unassign"))
    assert cancel is not None
    assert unassign is not None
    assert (str(cancel.target_id), cancel.details["assignment_id"]) == (shift_id, here.assignment_id)
    assert unassign.details["shifts_cancelled"] == [shift_id]
