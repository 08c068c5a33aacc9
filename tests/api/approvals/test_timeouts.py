"""Timeouts on a moved clock: a silent step reminds its approvers, then escalates to the managers above, each a
notification and an audit entry; a request past its expiry expires (and its subject is told)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils.compat import uuid7

from api.approvals.jobs import SWEEP_JOB, approval_job_handlers
from api.approvals.schemas import Step
from api.approvals.services import flow, register_subject, unregister_subject
from api.approvals.services.subjects import Outcome
from api.approvals.services.timeouts import SweepReport, sweep
from persistence.jobs import ClaimedJob
from tests.api.approvals.arrange import (
    Team,
    approvers,
    audit_actions,
    events,
    load,
    notifications,
    set_workflow,
    submit_request,
)

HOUR = timedelta(hours=1)
MANAGER = Step(name="Manager", rule="manager", timeout_seconds=3600)


async def _sweep(team: Team, now: datetime) -> SweepReport:
    async with team.kit.runtime.db.transaction(tenant_id=team.kit.id) as session:
        return await sweep(session, now)


@pytest.fixture
async def started(team: Team) -> tuple[UUID, datetime]:
    """A request waiting on the manager since ``t0``, with a one-hour timeout."""
    await set_workflow(team.kit, "purchase", MANAGER)
    t0 = datetime.now(UTC)
    return await submit_request(team.kit, team.requester, now=t0), t0


async def test_nothing_happens_before_the_timeout(team: Team, started: tuple[UUID, datetime]) -> None:
    request_id, t0 = started
    assert await _sweep(team, t0 + 59 * timedelta(minutes=1)) == SweepReport()
    assert len(await notifications(team.kit, team.manager, request_id)) == 1


async def test_the_first_timeout_reminds_the_approvers(team: Team, started: tuple[UUID, datetime]) -> None:
    request_id, t0 = started
    assert await _sweep(team, t0 + HOUR + timedelta(seconds=1)) == SweepReport(reminded=1)
    reminders = await notifications(team.kit, team.manager, request_id)
    assert [n.data["reason"] for n in reminders] == ["new", "reminder"]
    assert [a["id"] for a in reminders[-1].actions] == ["approve", "reject"]
    assert await audit_actions(team.kit, request_id) == ["approval.submit", "approval.remind"]
    # Once only: the same moment again does nothing more.
    assert await _sweep(team, t0 + HOUR + timedelta(seconds=2)) == SweepReport()


async def test_the_next_timeout_escalates_to_the_manager_above(team: Team, started: tuple[UUID, datetime]) -> None:
    request_id, t0 = started
    await _sweep(team, t0 + HOUR + timedelta(seconds=1))
    assert await _sweep(team, t0 + 2 * HOUR + timedelta(seconds=1)) == SweepReport(escalated=1)
    seats = await approvers(team.kit, request_id, 0)
    assert {(s.approver_id, s.escalated) for s in seats} == {(team.manager, False), (team.director, True)}
    [asked] = await notifications(team.kit, team.director, request_id)
    assert (asked.data["reason"], asked.priority) == ("escalation", "high")
    assert await audit_actions(team.kit, request_id) == ["approval.submit", "approval.remind", "approval.escalate"]
    assert [e.kind for e in await events(team.kit, request_id)][-2:] == ["reminded", "escalated"]


async def test_the_escalated_manager_decides_alone(team: Team, started: tuple[UUID, datetime]) -> None:
    request_id, t0 = started
    await _sweep(team, t0 + HOUR + timedelta(seconds=1))
    await _sweep(team, t0 + 2 * HOUR + timedelta(seconds=1))
    async with team.kit.runtime.db.transaction(tenant_id=team.kit.id) as session:
        request = await flow.decide(session, request_id=request_id, actor_id=team.director, decision="approve")
        assert request.status == "approved"


async def test_with_nobody_above_the_escalation_is_recorded_as_unavailable(team: Team) -> None:
    await set_workflow(
        team.kit, "purchase", Step(name="Director", rule="users", user_ids=[team.director], timeout_seconds=3600)
    )
    t0 = datetime.now(UTC)
    request_id = await submit_request(team.kit, team.requester, now=t0)
    await _sweep(team, t0 + HOUR + timedelta(seconds=1))
    await _sweep(team, t0 + 2 * HOUR + timedelta(seconds=1))
    assert [e.kind for e in await events(team.kit, request_id)][-1] == "escalation_unavailable"
    assert len(await approvers(team.kit, request_id)) == 1


class Expired:
    def __init__(self) -> None:
        self.outcomes: list[tuple[UUID, Outcome]] = []

    async def __call__(
        self, session: AsyncSession, *, request_id: UUID, outcome: Outcome, decided_by: UUID | None
    ) -> None:
        self.outcomes.append((request_id, outcome))


@pytest.fixture
def subject() -> Iterator[Expired]:
    handler = Expired()
    register_subject("test.expiring", handler)
    yield handler
    unregister_subject("test.expiring")


async def test_a_request_past_its_expiry_expires_and_its_subject_is_told(team: Team, subject: Expired) -> None:
    await set_workflow(team.kit, "test.expiring", MANAGER, expires_after_seconds=4 * 3600)
    t0, leave_id = datetime.now(UTC), uuid4()
    request_id = await submit_request(team.kit, team.requester, kind="test.expiring", subject_id=leave_id, now=t0)
    assert await _sweep(team, t0 + 4 * HOUR) == SweepReport(expired=1)
    request = await load(team.kit, request_id)
    assert (request.status, request.decided_by) == ("expired", None)
    assert subject.outcomes == [(leave_id, "expired")]
    assert (await notifications(team.kit, team.requester, request_id))[-1].title.startswith("Expired")
    assert "approval.expire" in await audit_actions(team.kit, request_id)


async def test_the_worker_job_sweeps_the_tenant(team: Team) -> None:
    await set_workflow(team.kit, "purchase", MANAGER, expires_after_seconds=3600)
    request_id = await submit_request(team.kit, team.requester, now=datetime.now(UTC) - 2 * HOUR)
    job = ClaimedJob(id=uuid7(), tenant_id=team.kit.id, kind=SWEEP_JOB, payload={}, attempts=1, max_attempts=3)
    await approval_job_handlers(team.kit.runtime.db)[SWEEP_JOB](job)
    assert (await load(team.kit, request_id)).status == "expired"
