"""Safety incidents: reporting with photos and people, the critical alert that goes through quiet hours, the
lifecycle with its timestamped and audited steps, photos kept from the orphan sweep, the board's view and
live events, bad input, other tenants' ids, and who may do what."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from api.auth.permissions import BUILTIN_ROLES, Permission
from api.runtime import Runtime
from api.settings import Settings
from channels.retention import sweep_tenant
from channels.storage import LocalFileStorage
from persistence.models import (
    Attachment,
    AuditEvent,
    Incident,
    Notification,
    NotificationDelivery,
    NotificationRequest,
    User,
)
from tests.api.fieldops.fieldkit import (
    PARIS,
    Client,
    assign,
    make_workplace,
    refused_without,
    tenant_dropping_jobs,
    upload,
)
from tests.api.identity.arrange import Headers, refusal
from tests.api.identity.test_rbac import _APP, guarded_endpoints
from tests.channels.chat import channel, say
from tests.channels.files import png
from tests.kit import TenantKit
from tests.nodes import AppNode, frame_where, next_frame

INCIDENTS = "/api/v1/incidents"
INCIDENT = f"{INCIDENTS}/{{incident_id:uuid}}"
EXPECTED = {
    ("GET", INCIDENTS, Permission.INCIDENTS_READ),
    ("GET", f"{INCIDENTS}/mine", Permission.INCIDENTS_REPORT),
    ("GET", INCIDENT, Permission.INCIDENTS_READ),
    ("POST", INCIDENTS, Permission.INCIDENTS_REPORT),
    ("POST", f"{INCIDENT}/status", Permission.INCIDENTS_MANAGE),
    ("GET", f"{INCIDENT}/photos/{{photo_id:uuid}}/content", Permission.INCIDENTS_READ),
}
TABLE = sorted((m, p, perm) for m, p, perm in guarded_endpoints(_APP) if p.startswith(INCIDENTS))
# Alerts raised here are due at once; no later test's worker may send them.
tenant = pytest.fixture(name="tenant")(tenant_dropping_jobs)
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


async def report(client: Client, headers: Headers, **fields: Any) -> Any:
    body = {"type": "slip", "severity": "medium", "description": "Wet floor by the freezers."} | fields
    return await client.post(INCIDENTS, json=body, headers=headers)


async def reported(client: Client, headers: Headers, **fields: Any) -> dict[str, Any]:
    response = await report(client, headers, **fields)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def step(client: Client, headers: Headers, incident_id: str, status: str, note: str = "done") -> Any:
    return await client.post(
        f"{INCIDENTS}/{incident_id}/status", json={"status": status, "note": note}, headers=headers
    )


async def incident_count(runtime: Runtime, tenant: TenantKit) -> int:
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        return await session.scalar(select(func.count()).select_from(Incident)) or 0


async def alerted(runtime: Runtime, tenant: TenantKit, incident_id: str) -> dict[UUID, Notification]:
    """The notifications the report of ``incident_id`` sent, by recipient."""
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        rows = await session.scalars(
            select(Notification)
            .join(NotificationRequest, NotificationRequest.id == Notification.request_id)
            .where(NotificationRequest.idempotency_key == f"incident.reported:{incident_id}")
        )
        return {n.user_id: n for n in rows}


async def deliveries(runtime: Runtime, tenant: TenantKit, notification_id: UUID) -> dict[str, NotificationDelivery]:
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        rows = await session.scalars(
            select(NotificationDelivery).where(NotificationDelivery.notification_id == notification_id)
        )
        return {d.channel: d for d in rows}


async def quiet_now(client: Client, runtime: Runtime, tenant: TenantKit, role: str) -> None:
    """Give ``role``'s user quiet hours from an hour ago to two hours from now, in their own time zone."""
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        zone = await session.scalar(select(User.timezone).where(User.id == tenant.users[role]))
    local = datetime.now(ZoneInfo(zone or "UTC"))
    hours = {
        "start": (local - timedelta(hours=1)).strftime("%H:%M"),
        "end": (local + timedelta(hours=2)).strftime("%H:%M"),
    }
    response = await client.put(
        "/api/v1/notifications/preferences", json={"quiet_hours": hours}, headers=await tenant.headers(client, role)
    )
    assert response.status_code == 200, response.text


async def supervised_store(client: Client, tenant: TenantKit) -> dict[str, Any]:
    """A workplace with the tenant's supervisor assigned to it as supervisor."""
    admin = await tenant.headers(client)
    workplace = await make_workplace(client, admin)
    await assign(client, admin, workplace["id"], tenant.users["supervisor"], role="supervisor")
    return workplace


async def test_a_report_keeps_its_photos_people_place_and_first_step(client: Client, tenant: TenantKit) -> None:
    workplace = await make_workplace(client, await tenant.headers(client))
    staff = await tenant.headers(client, "staff")
    photo = await upload(client, staff, png(30, 20), "floor.png", "image/png")
    incident = await reported(
        client,
        staff,
        workplace_id=workplace["id"],
        latitude=PARIS[0],
        longitude=PARIS[1],
        occurred_at="2026-03-29T09:00:00+02:00",
        photo_ids=[photo],
        people_involved=[str(tenant.users["staff"]), str(tenant.users["moderator"])],
    )
    assert (incident["status"], incident["reported_by"], incident["photo_ids"]) == (
        "open",
        str(tenant.users["staff"]),
        [photo],
    )
    assert incident["occurred_at"].startswith("2026-03-29T07:00:00")
    assert sorted(incident["people_involved"]) == sorted([str(tenant.users["staff"]), str(tenant.users["moderator"])])
    assert [(s.get("from_status"), s["to_status"]) for s in incident["history"]] == [(None, "open")]
    read = await client.get(f"{INCIDENTS}/{incident['id']}", headers=await tenant.headers(client, "safety"))
    assert read.json()["photo_ids"] == [photo]


async def test_a_critical_incident_alerts_supervisors_and_the_safety_role_at_once_through_quiet_hours(
    client: Client, runtime: Runtime, tenant: TenantKit
) -> None:
    workplace = await supervised_store(client, tenant)
    await quiet_now(client, runtime, tenant, "supervisor")
    before = datetime.now(UTC)
    incident = await reported(
        client, await tenant.headers(client, "staff"), workplace_id=workplace["id"], severity="critical"
    )
    sent = await alerted(runtime, tenant, incident["id"])
    assert set(sent) == {tenant.users["supervisor"], tenant.users["safety"]}
    to_supervisor = sent[tenant.users["supervisor"]]
    assert (to_supervisor.category, to_supervisor.priority, to_supervisor.overrode) == (
        "safety",
        "critical",
        ["quiet_hours"],
    )
    channels = await deliveries(runtime, tenant, to_supervisor.id)
    for name in ("push", "email"):
        assert channels[name].status == "queued"
        assert channels[name].scheduled_at is not None
        assert channels[name].scheduled_at - before < timedelta(seconds=30), name


async def test_a_high_incident_waits_for_the_end_of_quiet_hours(
    client: Client, runtime: Runtime, tenant: TenantKit
) -> None:
    workplace = await supervised_store(client, tenant)
    await quiet_now(client, runtime, tenant, "supervisor")
    incident = await reported(
        client, await tenant.headers(client, "staff"), workplace_id=workplace["id"], severity="high"
    )
    to_supervisor = (await alerted(runtime, tenant, incident["id"]))[tenant.users["supervisor"]]
    push = (await deliveries(runtime, tenant, to_supervisor.id))["push"]
    assert (to_supervisor.priority, push.status, push.log[0].get("reason")) == ("high", "queued", "quiet_hours")
    assert push.scheduled_at is not None
    assert push.scheduled_at > datetime.now(UTC) + timedelta(minutes=30)


async def test_only_the_workplaces_own_supervisors_are_alerted(
    client: Client, runtime: Runtime, tenant: TenantKit
) -> None:
    await supervised_store(client, tenant)
    elsewhere = await make_workplace(client, await tenant.headers(client))
    incident = await reported(
        client, await tenant.headers(client, "staff"), workplace_id=elsewhere["id"], severity="critical"
    )
    assert set(await alerted(runtime, tenant, incident["id"])) == {tenant.users["safety"]}


async def test_the_lifecycle_moves_step_by_step_each_timestamped_and_audited(
    client: Client, runtime: Runtime, tenant: TenantKit
) -> None:
    incident = await reported(client, await tenant.headers(client, "staff"), latitude=PARIS[0], longitude=PARIS[1])
    safety = await tenant.headers(client, "safety")
    for status, note in (
        ("investigating", "Talked to the team"),
        ("corrective_action", "Mats ordered"),
        ("closed", "Mats in place"),
    ):
        moved = await step(client, safety, incident["id"], status, note)
        assert (moved.status_code, moved.json()["status"]) == (200, status), moved.text
    final = moved.json()
    assert [(s.get("from_status"), s["to_status"], s["note"]) for s in final["history"]] == [
        (None, "open", ""),
        ("open", "investigating", "Talked to the team"),
        ("investigating", "corrective_action", "Mats ordered"),
        ("corrective_action", "closed", "Mats in place"),
    ]
    stamps = [s["at"] for s in final["history"]]
    assert stamps == sorted(stamps)
    assert final["closed_at"] == stamps[-1]
    assert {s["actor_id"] for s in final["history"][1:]} == {str(tenant.users["safety"])}
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        audited = (
            await session.scalars(
                select(AuditEvent.details)
                .where(AuditEvent.action == "incident.status", AuditEvent.target_id == incident["id"])
                .order_by(AuditEvent.occurred_at)
            )
        ).all()
    assert [(d["from"], d["to"]) for d in audited] == [
        ("open", "investigating"),
        ("investigating", "corrective_action"),
        ("corrective_action", "closed"),
    ]


async def test_a_step_out_of_order_is_refused_and_changes_nothing(client: Client, tenant: TenantKit) -> None:
    incident = await reported(client, await tenant.headers(client, "staff"), latitude=PARIS[0], longitude=PARIS[1])
    safety = await tenant.headers(client, "safety")
    skipped = await step(client, safety, incident["id"], "closed")
    assert refusal(skipped) == (409, "invalid_transition")
    assert skipped.json()["error"]["details"]["allowed"] == ["investigating"]
    await step(client, safety, incident["id"], "investigating")
    await step(client, safety, incident["id"], "closed")
    reopened = await step(client, safety, incident["id"], "open")
    assert refusal(reopened) == (409, "invalid_transition")
    assert len((await client.get(f"{INCIDENTS}/{incident['id']}", headers=safety)).json()["history"]) == 3


async def test_a_step_needs_a_note(client: Client, tenant: TenantKit) -> None:
    incident = await reported(client, await tenant.headers(client, "staff"), latitude=PARIS[0], longitude=PARIS[1])
    refused = await step(client, await tenant.headers(client, "safety"), incident["id"], "investigating", note="")
    assert refusal(refused) == (400, "invalid_request")


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, (422, "location_required")),
        ({"latitude": PARIS[0]}, (422, "invalid_point")),
        ({"latitude": 91, "longitude": 0}, (400, "invalid_request")),
        ({"latitude": 0, "longitude": 0, "occurred_at": "2026-03-29T09:00:00"}, (422, "naive_datetime")),
        ({"latitude": 0, "longitude": 0, "severity": "apocalyptic"}, (400, "invalid_request")),
        ({"latitude": 0, "longitude": 0, "description": ""}, (400, "invalid_request")),
    ],
    ids=["nowhere", "half-a-point", "off-the-globe", "naive-time", "unknown-severity", "no-description"],
)
async def test_a_bad_report_is_refused_and_records_nothing(
    client: Client, runtime: Runtime, tenant: TenantKit, fields: dict[str, Any], expected: tuple[int, str]
) -> None:
    assert refusal(await report(client, await tenant.headers(client, "staff"), **fields)) == expected
    assert await incident_count(runtime, tenant) == 0


async def test_an_incident_in_the_future_is_refused(client: Client, runtime: Runtime, tenant: TenantKit) -> None:
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    refused = await report(client, await tenant.headers(client, "staff"), latitude=0, longitude=0, occurred_at=later)
    assert refusal(refused) == (422, "in_future")
    assert await incident_count(runtime, tenant) == 0


async def test_another_tenants_workplace_person_or_photo_is_not_found(
    client: Client, runtime: Runtime, tenant: TenantKit, other_tenant: TenantKit
) -> None:
    theirs = await other_tenant.headers(client, "staff")
    their_workplace = await make_workplace(client, await other_tenant.headers(client))
    their_photo = await upload(client, theirs, png(10, 10), "x.png", "image/png")
    staff = await tenant.headers(client, "staff")
    here = {"latitude": 0, "longitude": 0}
    for fields in (
        {"workplace_id": their_workplace["id"]},
        here | {"people_involved": [str(other_tenant.users["staff"])]},
        here | {"photo_ids": [their_photo]},
    ):
        assert refusal(await report(client, staff, **fields)) == (404, "not_found"), fields
    assert await incident_count(runtime, tenant) == 0


async def test_a_photo_must_be_the_reporters_own_unshared_image(
    client: Client, runtime: Runtime, tenant: TenantKit
) -> None:
    staff = await tenant.headers(client, "staff")
    here = {"latitude": 0, "longitude": 0}
    someone_elses = await upload(client, await tenant.headers(client, "supervisor"), png(8, 8), "a.png", "image/png")
    document = await upload(client, staff, PDF, "form.pdf", "application/pdf")
    in_chat = await upload(client, staff, png(9, 9), "chat.png", "image/png")
    conversation_id = await channel(runtime, tenant, members=("staff",))
    await say(runtime, tenant, "staff", conversation_id, "look", attachment_ids=[UUID(in_chat)])
    used = await upload(client, staff, png(7, 7), "used.png", "image/png")
    await reported(client, staff, photo_ids=[used], **here)
    for photo, expected in (
        (someone_elses, (404, "not_found")),
        (document, (422, "invalid_photo")),
        (in_chat, (409, "photo_in_use")),
        (used, (409, "photo_in_use")),
    ):
        assert refusal(await report(client, staff, photo_ids=[photo], **here)) == expected, photo
    assert await incident_count(runtime, tenant) == 1


async def test_incident_photos_outlive_the_orphan_sweep(
    client: Client, runtime: Runtime, settings: Settings, tenant: TenantKit
) -> None:
    staff = await tenant.headers(client, "staff")
    kept = await upload(client, staff, png(12, 12), "kept.png", "image/png")
    orphan = await upload(client, staff, png(13, 13), "orphan.png", "image/png")
    await reported(client, staff, latitude=0, longitude=0, photo_ids=[kept])
    storage = LocalFileStorage(root=settings.data_path / "files")
    report_ = await sweep_tenant(
        db=runtime.db, storage=storage, tenant_id=tenant.id, now=datetime.now(UTC) + timedelta(days=2)
    )
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        left = set((await session.scalars(select(Attachment.id))).all())
    assert (report_.uploads_expired, left) == (1, {UUID(kept)})
    assert orphan not in {str(i) for i in left}


async def test_a_supervisor_downloads_an_incident_photo(client: Client, tenant: TenantKit) -> None:
    staff = await tenant.headers(client, "staff")
    image = png(16, 16)
    photo = await upload(client, staff, image, "hazard.png", "image/png")
    incident = await reported(client, staff, latitude=0, longitude=0, photo_ids=[photo])
    supervisor = await tenant.headers(client, "supervisor")
    download = await client.get(f"{INCIDENTS}/{incident['id']}/photos/{photo}/content", headers=supervisor)
    assert (download.status_code, download.content, download.headers["content-type"]) == (200, image, "image/png")
    other = await upload(client, staff, png(17, 17), "other.png", "image/png")
    assert refusal(await client.get(f"{INCIDENTS}/{incident['id']}/photos/{other}/content", headers=supervisor)) == (
        404,
        "not_found",
    )


async def test_staff_list_their_own_reports_but_not_everyones(client: Client, tenant: TenantKit) -> None:
    staff = await tenant.headers(client, "staff")
    mine = await reported(client, staff, latitude=0, longitude=0)
    await reported(client, await tenant.headers(client, "supervisor"), latitude=0, longitude=0)
    listed = (await client.get(f"{INCIDENTS}/mine", headers=staff)).json()
    assert [i["id"] for i in listed["items"]] == [mine["id"]]
    assert refusal(await client.get(INCIDENTS, headers=staff)) == (403, "forbidden")
    everyone = (await client.get(INCIDENTS, headers=await tenant.headers(client, "safety"))).json()
    assert everyone["total"] == 2


async def test_incidents_are_filtered_by_status_severity_and_workplace(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    store = await make_workplace(client, admin)
    first = await reported(client, admin, workplace_id=store["id"], severity="high")
    second = await reported(client, admin, latitude=0, longitude=0, severity="low")
    await step(client, admin, second["id"], "investigating")

    async def ids(**query: Any) -> list[str]:
        response = await client.get(INCIDENTS, params=query, headers=admin)
        assert response.status_code == 200, response.text
        return [i["id"] for i in response.json()["items"]]

    assert await ids(workplace_id=store["id"]) == [first["id"]]
    assert await ids(severity="low") == [second["id"]]
    assert await ids(status="investigating") == [second["id"]]


async def test_another_tenants_incident_is_not_found(
    client: Client, tenant: TenantKit, other_tenant: TenantKit
) -> None:
    theirs = await reported(client, await other_tenant.headers(client, "staff"), latitude=0, longitude=0)
    mine = await tenant.headers(client)
    assert refusal(await client.get(f"{INCIDENTS}/{theirs['id']}", headers=mine)) == (404, "not_found")
    assert refusal(await step(client, mine, theirs["id"], "investigating")) == (404, "not_found")
    still = await client.get(f"{INCIDENTS}/{theirs['id']}", headers=await other_tenant.headers(client))
    assert still.json()["status"] == "open"


async def test_the_board_sees_open_incidents_most_severe_first(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    store = await make_workplace(client, admin)
    low = await reported(client, admin, workplace_id=store["id"], severity="low")
    critical = await reported(client, admin, workplace_id=store["id"], severity="critical")
    closed = await reported(client, admin, workplace_id=store["id"], severity="high")
    await step(client, admin, closed["id"], "investigating")
    await step(client, admin, closed["id"], "closed")
    await reported(client, admin, latitude=0, longitude=0, severity="medium")  # at no workplace
    read = await client.get("/api/v1/board", headers=await tenant.headers(client, "supervisor"))
    (at_store,) = [w for w in read.json()["workplaces"] if w["workplace_id"] == store["id"]]
    assert [i["incident_id"] for i in at_store["open_incidents"]] == [critical["id"], low["id"]]


@pytest.fixture(scope="module")
async def node(settings: Settings) -> AsyncIterator[AppNode]:
    started = AppNode(settings)
    try:
        await started.ready()
        yield started
    finally:
        started.stop()


async def test_a_report_and_its_steps_appear_live_on_the_board(
    node: AppNode, client: Client, tenant: TenantKit
) -> None:
    board = f"t:{tenant.id}:board"
    async with await node.connect(headers=await tenant.headers(client, "supervisor")) as ws:
        hello = await next_frame(ws, "hello")
        assert board in hello["topics"]
        incident = await reported(
            client, await tenant.headers(client, "staff"), latitude=0, longitude=0, severity="high"
        )

        def on_board(change: str) -> Any:
            return lambda f: (
                f.get("type") == "event"
                and f.get("topic") == board
                and f["event"].get("type") == "board.incident"
                and f["event"].get("change") == change
            )

        seen = await frame_where(ws, on_board("reported"))
        await step(client, await tenant.headers(client, "safety"), incident["id"], "investigating")
        moved = await frame_where(ws, on_board("status"))
    assert (seen["event"]["incident_id"], seen["event"]["severity"], seen["event"]["status"]) == (
        incident["id"],
        "high",
        "open",
    )
    assert moved["event"]["status"] == "investigating"


def test_staff_report_and_the_safety_role_and_supervisors_manage() -> None:
    staff = BUILTIN_ROLES["staff"][1]
    assert Permission.INCIDENTS_REPORT in staff
    assert not {Permission.INCIDENTS_READ, Permission.INCIDENTS_MANAGE} & staff
    for role in ("supervisor", "safety"):
        assert {Permission.INCIDENTS_READ, Permission.INCIDENTS_MANAGE} <= BUILTIN_ROLES[role][1]


def test_each_incident_endpoint_requires_the_intended_permission() -> None:
    assert set(TABLE) == EXPECTED


@pytest.mark.parametrize(("method", "path", "permission"), TABLE, ids=[f"{m} {p}" for m, p, _ in TABLE])
async def test_endpoint_refuses_a_caller_lacking_its_permission(
    client: Client,
    rbac_tenant: TenantKit,
    signed_in: dict[frozenset[str], Headers],
    method: str,
    path: str,
    permission: Permission,
) -> None:
    assert await refused_without(client, rbac_tenant, signed_in, method, path, permission) == (403, "forbidden")
