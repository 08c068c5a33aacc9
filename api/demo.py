"""``fieldhub demo``: a demo tenant with people in every role and a few departments, to try the product."""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec
from sqlalchemy import text

from api.provisioning import create_tenant, create_user
from persistence.models import Department

if TYPE_CHECKING:
    from persistence.engine import Database

DEMO_SLUG = "demo"
DEMO_PASSWORD = "fieldhub-demo-2026"  # noqa: S105  (printed to the user: it is a demo)

PEOPLE = [
    ("admin@demo.fieldhub.local", "Alex Admin", "admin", None),
    ("moderator@demo.fieldhub.local", "Mo Moderator", "moderator", None),
    ("supervisor@demo.fieldhub.local", "Sam Supervisor", "supervisor", "North Region"),
    ("ana@demo.fieldhub.local", "Ana Field", "staff", "North Region"),
    ("ben@demo.fieldhub.local", "Ben Field", "staff", "North Region"),
    ("chen@demo.fieldhub.local", "Chen Field", "staff", "South Region"),
    ("dana@demo.fieldhub.local", "Dana Field", "staff", "South Region"),
]


class DemoLogin(msgspec.Struct, frozen=True):
    email: str
    name: str
    role: str


async def seed_demo(db: Database, *, once: bool) -> list[DemoLogin] | None:
    """Create the demo tenant; with ``once``, do nothing (return ``None``) if it exists.

    Raises:
        ValueError: the demo tenant exists and ``once`` is false.
    """
    async with db.transaction() as session:
        taken = (
            await session.execute(
                text("SELECT 1 FROM fieldhub_login_lookup(:email, :slug)"),
                {"email": PEOPLE[0][0], "slug": DEMO_SLUG},
            )
        ).first()
    if taken:
        if once:
            return None
        raise ValueError("the demo tenant exists already")
    async with db.transaction() as session:
        tenant = await create_tenant(session, name="Demo Merchandising Co.", slug=DEMO_SLUG)
        operations = Department(tenant_id=tenant.id, name="Field Operations")
        session.add(operations)
        await session.flush()
        regions = {}
        for name in ("North Region", "South Region"):
            regions[name] = Department(tenant_id=tenant.id, name=name, parent_id=operations.id)
            session.add(regions[name])
        await session.flush()
        for email, name, role, department in PEOPLE:
            await create_user(
                session,
                tenant_id=tenant.id,
                email=email,
                name=name,
                password=DEMO_PASSWORD,
                roles=[role],
                department_id=regions[department].id if department else None,
            )
    return [DemoLogin(email=e, name=n, role=r) for e, n, r, _ in PEOPLE]
