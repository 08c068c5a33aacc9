"""The operations reports' figures against data the test wrote: task completion, incidents, maintenance SLA,
chat activity and moderation statistics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from persistence.models import Conversation, Incident, MaintenanceRequest, Message, ModerationCase, Task
from tests.api.fieldops.fieldkit import Client, make_workplace
from tests.api.reports.arrange import add, report, rows_by
from tests.api.reports.arrange import incident as an_incident
from tests.kit import TenantKit

IN_MARCH = datetime(2026, 3, 10, 9, tzinfo=UTC)
IN_APRIL = datetime(2026, 4, 10, 9, tzinfo=UTC)


async def test_task_completion_per_workplace_and_assignee_with_rate_and_rank(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    place = UUID((await make_workplace(client, admin))["id"])
    staff, other = tenant.users["staff"], tenant.users["supervisor"]

    def task(assignee: UUID, status: str, *, created: datetime = IN_MARCH, due: datetime | None = None) -> Task:
        return Task(
            tenant_id=tenant.id,
            title="Shelf check",
            assignee_id=assignee,
            workplace_id=place,
            status=status,
            due_at=due,
            created_at=created,
            updated_at=created,
        )

    past = datetime(2026, 3, 12, tzinfo=UTC)
    await add(
        tenant,
        task(staff, "done"),
        task(staff, "done"),
        task(staff, "todo", due=past),  # overdue
        task(staff, "cancelled"),
        task(other, "done"),
        task(other, "in_progress"),
        task(staff, "done", created=IN_APRIL),  # out of the range
    )

    rows = rows_by(await report(client, admin, "task_completion"), "assignee_id")

    mine = rows[str(staff)]
    assert {k: mine[k] for k in ("tasks", "done", "cancelled", "overdue", "completion_rate", "rank_in_workplace")} == {
        "tasks": 4,
        "done": 2,
        "cancelled": 1,
        "overdue": 1,
        "completion_rate": 0.667,
        "rank_in_workplace": 1,
    }
    theirs = rows[str(other)]
    assert (theirs["tasks"], theirs["done"], theirs["completion_rate"], theirs["rank_in_workplace"]) == (2, 1, 0.5, 2)


async def test_incidents_by_type_and_severity_with_open_closed_and_share(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)

    def incident(kind: str, severity: str, status: str, at: datetime = IN_MARCH) -> Incident:
        return an_incident(tenant, kind, at=at, severity=severity, status=status)

    await add(
        tenant,
        incident("slip", "low", "open"),
        incident("slip", "low", "closed"),
        incident("slip", "low", "investigating"),
        incident("fire", "critical", "closed"),
        incident("fire", "critical", "open", IN_APRIL),  # out of the range
    )

    rows = rows_by(await report(client, admin, "incidents"), "type", "severity")

    assert {k: rows[("slip", "low")][k] for k in ("incidents", "open", "closed", "share_percent")} == {
        "incidents": 3,
        "open": 2,
        "closed": 1,
        "share_percent": 75.0,
    }
    assert {k: rows[("fire", "critical")][k] for k in ("incidents", "open", "closed", "share_percent")} == {
        "incidents": 1,
        "open": 0,
        "closed": 1,
        "share_percent": 25.0,
    }
    assert len(rows) == 2


async def test_maintenance_sla_counts_met_breached_and_open_within(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    place = UUID((await make_workplace(client, admin))["id"])
    due = IN_MARCH + timedelta(hours=24)
    future = datetime.now(UTC) + timedelta(days=30)

    def request(
        priority: str, status: str, *, resolved: datetime | None = None, due_at: datetime = due
    ) -> MaintenanceRequest:
        return MaintenanceRequest(
            tenant_id=tenant.id,
            title="Fridge",
            workplace_id=place,
            priority=priority,
            status=status,
            due_at=due_at,
            resolved_at=resolved,
            created_at=IN_MARCH,
            updated_at=IN_MARCH,
        )

    await add(
        tenant,
        request("high", "resolved", resolved=due - timedelta(hours=1)),  # met
        request("high", "closed", resolved=due - timedelta(hours=2)),  # met
        request("high", "resolved", resolved=due + timedelta(hours=1)),  # breached, late
        request("high", "open"),  # breached, still open past due
        request("high", "open", due_at=future),  # open within
        request("high", "cancelled"),  # not counted
        request("high", "rejected"),  # not counted: refused at its cost approval
        request("high", "pending_approval"),  # not counted: waiting for its cost approval
        request("low", "resolved", resolved=due),  # met, on the minute
    )

    rows = rows_by(await report(client, admin, "maintenance_sla"), "priority")

    assert {k: rows["high"][k] for k in ("requests", "met", "breached", "open_within_sla", "met_rate")} == {
        "requests": 5,
        "met": 2,
        "breached": 2,
        "open_within_sla": 1,
        "met_rate": 0.5,
    }
    assert (rows["low"]["met"], rows["low"]["breached"], rows["low"]["met_rate"]) == (1, 0, 1.0)


async def test_chat_activity_per_conversation_without_deleted_messages(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    staff, other = tenant.users["staff"], tenant.users["supervisor"]
    room = Conversation(tenant_id=tenant.id, kind="public", name="r-general", last_seq=10)
    await add(tenant, room)

    root_id = uuid4()

    def message(
        seq: int, author: UUID, *, at: datetime = IN_MARCH, deleted: bool = False, reply: bool = False
    ) -> Message:
        return Message(
            id=root_id if seq == 1 else uuid4(),
            tenant_id=tenant.id,
            conversation_id=room.id,
            seq=seq,
            author_id=author,
            client_id=f"c{seq}",
            body="hello",
            thread_root_id=root_id if reply else None,
            created_at=at,
            updated_at=at,
            deleted_at=at if deleted else None,
        )

    await add(tenant, message(1, staff), message(2, staff))
    await add(tenant, message(3, other, reply=True), message(4, other, deleted=True, reply=True))
    await add(tenant, message(5, staff, at=IN_APRIL, reply=True))

    rows = rows_by(await report(client, admin, "chat_activity"), "name")

    assert {k: rows["r-general"][k] for k in ("messages", "authors", "replies")} == {
        "messages": 3,
        "authors": 2,
        "replies": 1,
    }
    assert rows["r-general"]["last_message_at"].startswith("2026-03-10T09:00:00")


async def test_moderation_statistics_by_source_and_status(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    staff = tenant.users["staff"]

    def case(source: str, status: str, flags: int, held: bool, at: datetime = IN_MARCH) -> ModerationCase:
        return ModerationCase(
            tenant_id=tenant.id,
            source=source,
            status=status,
            author_id=staff,
            flag_count=flags,
            held=held,
            created_at=at,
            updated_at=at,
        )

    await add(
        tenant,
        case("flag", "open", 2, False),
        case("flag", "open", 3, True),
        case("rule", "resolved", 0, True),
        case("flag", "open", 7, True, IN_APRIL),  # out of the range
    )

    rows = rows_by(await report(client, admin, "moderation"), "source", "status")

    assert {k: rows[("flag", "open")][k] for k in ("cases", "flags", "held")} == {"cases": 2, "flags": 5, "held": 1}
    assert {k: rows[("rule", "resolved")][k] for k in ("cases", "flags", "held")} == {"cases": 1, "flags": 0, "held": 1}
