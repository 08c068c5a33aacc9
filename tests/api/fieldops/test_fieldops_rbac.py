"""RBAC table of the field operations endpoints: each requires exactly its intended permission.

Read from the application's routes (as the identity RBAC test does), so a new endpoint under these
prefixes fails here until its permission is named on purpose.
"""

from __future__ import annotations

from typing import Any

import pytest

from api.auth.permissions import ALL_PERMISSIONS, BUILTIN_ROLES, Permission
from tests.api.fieldops.fieldkit import Client
from tests.api.identity.arrange import Headers, refusal, signed_in_with
from tests.api.identity.test_rbac import _APP, concrete, guarded_endpoints
from tests.kit import TenantKit

PREFIXES = (
    "/api/v1/workplaces",
    "/api/v1/attendance",
    "/api/v1/tasks",
    "/api/v1/shifts",
    "/api/v1/overtime",
    "/api/v1/leave",
    "/api/v1/holidays",
)
W, A, T = "/api/v1/workplaces", "/api/v1/attendance", "/api/v1/tasks"
TASK = f"{T}/{{task_id:uuid}}"
EXPECTED = {
    ("GET", W, Permission.WORKPLACES_READ),
    ("GET", f"{W}/{{workplace_id:uuid}}", Permission.WORKPLACES_READ),
    ("POST", W, Permission.WORKPLACES_WRITE),
    ("PATCH", f"{W}/{{workplace_id:uuid}}", Permission.WORKPLACES_WRITE),
    ("DELETE", f"{W}/{{workplace_id:uuid}}", Permission.WORKPLACES_WRITE),
    ("GET", f"{W}/{{workplace_id:uuid}}/assignments", Permission.WORKPLACES_READ),
    ("POST", f"{W}/{{workplace_id:uuid}}/assignments", Permission.WORKPLACES_WRITE),
    ("DELETE", f"{W}/{{workplace_id:uuid}}/assignments/{{assignment_id:uuid}}", Permission.WORKPLACES_WRITE),
    ("POST", f"{A}/clock-in", Permission.ATTENDANCE_CLOCK),
    ("POST", f"{A}/clock-out", Permission.ATTENDANCE_CLOCK),
    ("GET", f"{A}/mine", Permission.ATTENDANCE_CLOCK),
    ("GET", f"{A}/workplaces/{{workplace_id:uuid}}/days/{{day:date}}", Permission.ATTENDANCE_READ),
    ("POST", f"{A}/breaks/start", Permission.ATTENDANCE_CLOCK),
    ("POST", f"{A}/breaks/end", Permission.ATTENDANCE_CLOCK),
    ("POST", f"{A}/{{attendance_id:uuid}}/corrections", Permission.ATTENDANCE_CORRECT),
    ("POST", f"{A}/{{attendance_id:uuid}}/correction-requests", Permission.ATTENDANCE_CLOCK),
    ("GET", f"{A}/timesheets/mine", Permission.ATTENDANCE_CLOCK),
    ("GET", f"{A}/timesheets/{{user_id:uuid}}", Permission.ATTENDANCE_READ),
    ("GET", f"{A}/policy", Permission.ATTENDANCE_READ),
    ("PUT", f"{A}/policy", Permission.ATTENDANCE_ADMIN),
    ("GET", "/api/v1/shifts", Permission.SHIFTS_READ),
    ("GET", "/api/v1/shifts/occurrences", Permission.SHIFTS_READ),
    ("GET", "/api/v1/shifts/{shift_id:uuid}", Permission.SHIFTS_READ),
    ("POST", "/api/v1/shifts", Permission.SHIFTS_WRITE),
    ("DELETE", "/api/v1/shifts/{shift_id:uuid}", Permission.SHIFTS_WRITE),
    ("PATCH", "/api/v1/shifts/{shift_id:uuid}", Permission.SHIFTS_WRITE),
    ("POST", "/api/v1/shifts/{shift_id:uuid}/cancel", Permission.SHIFTS_WRITE),
    ("POST", "/api/v1/shifts/{shift_id:uuid}/occurrences/{day:date}/cancel", Permission.SHIFTS_WRITE),
    ("GET", "/api/v1/holidays", Permission.SHIFTS_READ),
    ("POST", "/api/v1/holidays", Permission.ATTENDANCE_ADMIN),
    ("PATCH", "/api/v1/holidays/{holiday_id:uuid}", Permission.ATTENDANCE_ADMIN),
    ("DELETE", "/api/v1/holidays/{holiday_id:uuid}", Permission.ATTENDANCE_ADMIN),
    ("GET", "/api/v1/overtime", Permission.ATTENDANCE_READ),
    ("GET", "/api/v1/overtime/mine", Permission.ATTENDANCE_CLOCK),
    ("POST", "/api/v1/overtime/{overtime_id:uuid}/cancel", Permission.ATTENDANCE_CLOCK),
    ("GET", "/api/v1/overtime/rules", Permission.ATTENDANCE_READ),
    ("PUT", "/api/v1/overtime/rules", Permission.ATTENDANCE_ADMIN),
    ("GET", "/api/v1/leave/types", Permission.LEAVE_REQUEST),
    ("POST", "/api/v1/leave/types", Permission.LEAVE_ADMIN),
    ("PATCH", "/api/v1/leave/types/{type_id:uuid}", Permission.LEAVE_ADMIN),
    ("POST", "/api/v1/leave/requests", Permission.LEAVE_REQUEST),
    ("GET", "/api/v1/leave/requests", Permission.LEAVE_READ),
    ("GET", "/api/v1/leave/requests/mine", Permission.LEAVE_REQUEST),
    ("GET", "/api/v1/leave/requests/{request_id:uuid}", Permission.LEAVE_REQUEST),
    ("POST", "/api/v1/leave/requests/{request_id:uuid}/cancel", Permission.LEAVE_REQUEST),
    ("GET", "/api/v1/leave/balances/mine", Permission.LEAVE_REQUEST),
    ("GET", "/api/v1/leave/balances/{user_id:uuid}", Permission.LEAVE_READ),
    ("GET", "/api/v1/leave/calendar", Permission.LEAVE_REQUEST),
    ("GET", T, Permission.TASKS_READ),
    ("GET", f"{T}/mine", Permission.TASKS_READ),
    ("GET", TASK, Permission.TASKS_READ),
    ("POST", T, Permission.TASKS_WRITE),
    ("PATCH", TASK, Permission.TASKS_WRITE),
    ("POST", f"{TASK}/status", Permission.TASKS_WORK),
    ("POST", f"{TASK}/dependencies", Permission.TASKS_WRITE),
    ("DELETE", f"{TASK}/dependencies/{{depends_on_id:uuid}}", Permission.TASKS_WRITE),
    ("POST", f"{TASK}/checklist", Permission.TASKS_WRITE),
    ("PATCH", f"{TASK}/checklist/{{item_id:uuid}}", Permission.TASKS_WORK),
    ("GET", f"{TASK}/comments", Permission.TASKS_READ),
    ("POST", f"{TASK}/comments", Permission.TASKS_WORK),
    ("POST", f"{TASK}/timer", Permission.TASKS_WORK),
    ("POST", f"{T}/timer/stop", Permission.TASKS_WORK),
    ("POST", f"{TASK}/time-entries", Permission.TASKS_WORK),
    ("GET", f"{TASK}/time", Permission.TASKS_READ),
    ("GET", f"{TASK}/files", Permission.TASKS_READ),
    ("POST", f"{TASK}/files", Permission.TASKS_WORK),
    ("GET", f"{TASK}/files/{{file_id:uuid}}/content", Permission.TASKS_READ),
    ("DELETE", f"{TASK}/files/{{file_id:uuid}}", Permission.TASKS_WORK),
}
TABLE = sorted((m, p, perm) for m, p, perm in guarded_endpoints(_APP) if p.startswith(PREFIXES))


def test_each_field_endpoint_requires_the_intended_permission() -> None:
    assert set(TABLE) == EXPECTED


def test_staff_clock_in_and_work_their_tasks_but_do_not_manage() -> None:
    staff = BUILTIN_ROLES["staff"][1]
    assert {Permission.ATTENDANCE_CLOCK, Permission.TASKS_WORK, Permission.WORKPLACES_READ} <= staff
    assert not {Permission.TASKS_WRITE, Permission.WORKPLACES_WRITE, Permission.ATTENDANCE_READ} & staff


@pytest.mark.parametrize(("method", "path", "permission"), TABLE, ids=[f"{m} {p}" for m, p, _ in TABLE])
async def test_endpoint_refuses_a_caller_lacking_its_permission(
    client: Client,
    rbac_tenant: TenantKit,
    signed_in: dict[frozenset[str], Headers],
    method: str,
    path: str,
    permission: Permission,
) -> None:
    lacking = frozenset(ALL_PERMISSIONS - {permission})
    if lacking not in signed_in:
        signed_in[lacking] = await signed_in_with(client, rbac_tenant, lacking)
    body: Any = {} if method in {"POST", "PUT", "PATCH"} else None
    url = concrete(path).replace("{day:date}", "2026-03-29")
    refused = await client.request(method, url, json=body, headers=signed_in[lacking])
    assert refusal(refused) == (403, "forbidden"), refused.text
