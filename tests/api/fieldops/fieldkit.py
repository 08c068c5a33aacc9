"""Arranging field operations data through the API, for the workplace, attendance and task tests."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from uuid import UUID

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import delete, update
from uuid_utils.compat import uuid7

from api.auth.permissions import ALL_PERMISSIONS
from api.runtime import Runtime
from persistence.jobs import ClaimedJob
from persistence.models import AttendanceRecord, Job, User
from tests.api.identity.arrange import Headers, refusal, signed_in_with
from tests.api.identity.test_rbac import concrete
from tests.kit import TenantKit

Client = AsyncTestClient[Litestar]

# The Louvre's pyramid; 0.001 degree of latitude is about 111 m everywhere.
PARIS = (48.8611, 2.3358)
METRES_PER_DEGREE_LAT = 111_195.0


def north_of(point: tuple[float, float], metres: float) -> tuple[float, float]:
    """A point ``metres`` due north of ``point``."""
    return point[0] + metres / METRES_PER_DEGREE_LAT, point[1]


async def make_workplace(client: Client, headers: Headers, **fields: Any) -> dict[str, Any]:
    """A workplace created through the API (Paris, 100 m geofence unless told otherwise)."""
    body: dict[str, Any] = {
        "name": "Store",
        "code": f"S-{secrets.token_hex(3)}",
        "latitude": PARIS[0],
        "longitude": PARIS[1],
        "geofence_radius_m": 100,
        "timezone": "Europe/Paris",
    } | fields
    response = await client.post("/api/v1/workplaces", json=body, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def assign(client: Client, headers: Headers, workplace_id: str, user_id: Any, role: str = "staff") -> str:
    response = await client.post(
        f"/api/v1/workplaces/{workplace_id}/assignments",
        json={"user_id": str(user_id), "role": role},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    assignment_id: str = response.json()["id"]
    return assignment_id


async def make_asset(client: Client, headers: Headers, workplace_id: str, **fields: Any) -> dict[str, Any]:
    """An asset created through the API (a fridge with a fresh serial unless told otherwise)."""
    body: dict[str, Any] = {"workplace_id": workplace_id, "type": "fridge", "serial": f"SN-{secrets.token_hex(4)}"}
    response = await client.post("/api/v1/assets", json=body | fields, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def upload(client: Client, headers: Headers, data: bytes, name: str, content_type: str) -> str:
    """A file uploaded through ``POST /api/v1/files``; its id."""
    response = await client.post("/api/v1/files", files={"file": (name, data, content_type)}, headers=headers)
    assert response.status_code == 201, response.text
    file_id: str = response.json()["id"]
    return file_id


async def refused_without(
    client: Client, kit: TenantKit, cache: dict[frozenset[str], Headers], method: str, path: str, permission: str
) -> tuple[int, str | None]:
    """How ``method path`` answers a caller holding every permission but ``permission`` (ids made up)."""
    lacking = frozenset(ALL_PERMISSIONS - {permission})
    if lacking not in cache:
        cache[lacking] = await signed_in_with(client, kit, lacking)
    body: Any = {} if method in {"POST", "PUT", "PATCH"} else None
    return refusal(await client.request(method, concrete(path), json=body, headers=cache[lacking]))


async def tenant_dropping_jobs(runtime: Runtime) -> AsyncIterator[TenantKit]:
    """A tenant whose queued jobs are dropped once the test is over: safety alerts are due at once, and the
    delivery tests' workers, which claim every tenant's jobs, must not send them to their mail servers."""
    kit = await TenantKit.create(runtime)
    yield kit
    async with runtime.db.transaction(tenant_id=kit.id) as session:
        await session.execute(delete(Job))


def periodic_job(tenant: TenantKit, kind: str, slot_start: datetime) -> ClaimedJob:
    """A periodic job of ``kind`` as the schedule enqueues it for ``tenant``, scheduled for ``slot_start``."""
    payload = {"slot_start": slot_start.isoformat()}
    return ClaimedJob(id=uuid7(), tenant_id=tenant.id, kind=kind, payload=payload, attempts=1, max_attempts=3)


async def stay(kit: TenantKit, user_id: UUID, workplace_id: str, start: datetime, end: datetime | None) -> UUID:
    """An attendance written straight to the database (the offline window forbids dates long past); its id."""
    async with kit.runtime.db.transaction(tenant_id=kit.id) as session:
        record = AttendanceRecord(
            tenant_id=kit.id,
            user_id=user_id,
            workplace_id=UUID(workplace_id),
            clock_in_at=start,
            clock_in_received_at=start,
            clock_in_latitude=PARIS[0],
            clock_in_longitude=PARIS[1],
            clock_in_distance_m=0.0,
            clock_out_at=end,
            clock_out_received_at=end,
        )
        session.add(record)
        await session.flush()
        return record.id


async def set_timezone(kit: TenantKit, user_id: UUID, zone: str) -> None:
    """Give a person a time zone (timesheets, overtime and leave are cut in it)."""
    async with kit.runtime.db.transaction(tenant_id=kit.id) as session:
        await session.execute(update(User).where(User.id == user_id).values(timezone=zone))


async def report_to(kit: TenantKit, user_id: UUID, manager_id: UUID | None) -> None:
    """Make ``manager_id`` the person's manager (the default leave and overtime workflows ask the manager)."""
    async with kit.runtime.db.transaction(tenant_id=kit.id) as session:
        await session.execute(update(User).where(User.id == user_id).values(manager_id=manager_id))
