"""Seed a field-operations tenant for ``bench.api``: people through the application's code, the bulk in SQL.

The tenant and its users go through ``api.provisioning`` (roles, categories, one shared password
hash); each staff member reports to a supervisor, whom the default leave workflow asks. Workplaces,
assignments, 100,000 tasks and 1,000,000 closed attendance records are written by ``INSERT ... SELECT
generate_series`` as the owner role, which row-level security lets through. Then the whole database is
analysed, so the planner knows every table's size (the people too, not only the bulk).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from uuid import UUID

import asyncpg
from sqlalchemy import select

from api.auth.passwords import hash_password
from api.provisioning import create_tenant, create_user
from bench.chatdb import PASSWORD
from persistence.engine import Database
from persistence.models import Role, UserRole

if TYPE_CHECKING:
    from bench.chatdb import BenchDatabase

# Every workplace sits on a grid around Paris with a 300 m geofence; its staff clock in at its centre.
ORIGIN = (48.80, 2.25)
STEP = 0.01

WORKPLACES_SQL = """
INSERT INTO workplace (id, tenant_id, name, code, address, latitude, longitude, geofence_radius_m, timezone,
                       opening_hours, region, department_id, status, created_at, updated_at)
SELECT gen_random_uuid(), $1, 'Store ' || g, 'S' || g, '', $2 + (g / 20) * $4, $3 + (g % 20) * $4, 300,
       'Europe/Paris', '{}'::jsonb, NULL, NULL, 'active', now(), now()
FROM generate_series(0, $5 - 1) AS g
"""
ASSIGNMENTS_SQL = """
INSERT INTO workplace_assignment (id, tenant_id, workplace_id, user_id, role, started_at, created_at, updated_at)
SELECT gen_random_uuid(), $1, ($3::uuid[])[1 + (i - 1) % cardinality($3::uuid[])], u, 'staff', now(), now(), now()
FROM unnest($2::uuid[]) WITH ORDINALITY AS people(u, i)
"""
# Tasks due from 30 days ago to 30 days ahead; those past due are mostly done, some still open (overdue).
TASKS_SQL = """
INSERT INTO task (id, tenant_id, title, description, assignee_id, workplace_id, created_by, due_at, priority, status,
                  labels, requires_photo, created_at, updated_at)
SELECT gen_random_uuid(), $1, 'Task ' || g, '', ($2::uuid[])[1 + g % cardinality($2::uuid[])],
       ($3::uuid[])[1 + (g % cardinality($2::uuid[])) % cardinality($3::uuid[])], $4,
       now() + ((g % 86400) - 43200) * interval '1 minute',
       (ARRAY['low', 'normal', 'high', 'urgent'])[1 + g % 4],
       CASE WHEN (g % 86400) < 43200 AND g % 10 <> 0 THEN 'done' ELSE 'todo' END,
       ARRAY['bench'], false, now(), now()
FROM generate_series(0, $5 - 1) AS g
"""
# One closed stay per person and day, going back a day per record, at the person's workplace.
ATTENDANCE_SQL = """
INSERT INTO attendance_record (id, tenant_id, user_id, workplace_id, clock_in_at, clock_in_received_at,
                               clock_in_offline, clock_in_latitude, clock_in_longitude, clock_in_accuracy_m,
                               clock_in_distance_m, clock_out_at, clock_out_received_at, clock_out_offline,
                               clock_out_latitude, clock_out_longitude, clock_out_accuracy_m, clock_out_distance_m,
                               clock_in_flagged, clock_out_flagged, created_at, updated_at)
SELECT gen_random_uuid(), $1, ($2::uuid[])[1 + g % cardinality($2::uuid[])],
       ($3::uuid[])[1 + (g % cardinality($2::uuid[])) % cardinality($3::uuid[])],
       date_trunc('day', now()) - (1 + g / cardinality($2::uuid[])) * interval '1 day' + interval '8 hours',
       date_trunc('day', now()) - (1 + g / cardinality($2::uuid[])) * interval '1 day' + interval '8 hours',
       false, 48.8, 2.25, 10, 5,
       date_trunc('day', now()) - (1 + g / cardinality($2::uuid[])) * interval '1 day' + interval '16 hours',
       date_trunc('day', now()) - (1 + g / cardinality($2::uuid[])) * interval '1 day' + interval '16 hours',
       false, 48.8, 2.25, 10, 5, false, false, now(), now()
FROM generate_series(0, $4 - 1) AS g
"""


@dataclass
class FieldSeed:
    """The bench tenant: its users (``staff`` and ``supervisors``, by email) and each staff member's workplace."""

    tenant_id: UUID
    slug: str
    staff: list[str] = field(default_factory=list)
    supervisors: list[str] = field(default_factory=list)
    workplace_of: dict[str, tuple[str, float, float]] = field(default_factory=dict)
    """Email -> (workplace id, latitude, longitude) of a staff member's workplace."""


async def seed_field(
    database: BenchDatabase, *, users: int, supervisors: int, workplaces: int, tasks: int, attendance: int
) -> FieldSeed:
    """One tenant with ``users`` people (the first ``supervisors`` of them supervisors), ``workplaces`` stores,
    ``tasks`` tasks spread over the staff and ``attendance`` closed attendance records."""
    db = Database(url=database.app_url, pool_size=2)
    slug = f"bench-{secrets.token_hex(3)}"
    shared_hash = await hash_password(PASSWORD)
    try:
        async with db.transaction() as session:
            tenant = await create_tenant(session, name="Bench", slug=slug)
            seed = FieldSeed(tenant_id=tenant.id, slug=slug)
            staff_ids: list[UUID] = []
            managers: list[UUID] = []
            for index in range(users):
                role = "supervisor" if index < supervisors else "staff"
                email = f"u{index}@{slug}.bench"
                user = await create_user(
                    session, tenant_id=tenant.id, email=email, name=f"User {index}", password=None, roles=[role]
                )
                user.password_hash = shared_hash
                if role == "staff":
                    user.manager_id = managers[index % len(managers)]
                    seed.staff.append(email)
                    staff_ids.append(user.id)
                else:
                    await session.flush()
                    managers.append(user.id)
                    seed.supervisors.append(email)
            await session.flush()
            supervisor_role = await session.scalar(select(Role.id).where(Role.name == "supervisor"))
            creator = await session.scalar(select(UserRole.user_id).where(UserRole.role_id == supervisor_role).limit(1))
    finally:
        await db.dispose()
    connection = await asyncpg.connect(database.dsn)
    try:
        await connection.execute(WORKPLACES_SQL, seed.tenant_id, ORIGIN[0], ORIGIN[1], STEP, workplaces)
        places = await connection.fetch(
            "SELECT id, latitude, longitude FROM workplace WHERE tenant_id = $1 ORDER BY code", seed.tenant_id
        )
        place_ids = [p["id"] for p in places]
        await connection.execute(ASSIGNMENTS_SQL, seed.tenant_id, staff_ids, place_ids)
        for index, email in enumerate(seed.staff):
            place = places[index % len(places)]
            seed.workplace_of[email] = (str(place["id"]), place["latitude"], place["longitude"])
        await connection.execute(TASKS_SQL, seed.tenant_id, staff_ids, place_ids, creator, tasks)
        await connection.execute(ATTENDANCE_SQL, seed.tenant_id, staff_ids, place_ids, attendance)
        await connection.execute("ANALYZE")
    finally:
        await connection.close()
    return seed
