"""``fieldhub demo``: a demo tenant with people in every role and a few departments, to try the product."""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec
from sqlalchemy import text

from api.provisioning import create_tenant, create_user
from channels.conversations import Conversations
from channels.effects import Effects
from channels.messages import Messages
from persistence.models import Department

if TYPE_CHECKING:
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession

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
        people = {}
        for email, name, role, department in PEOPLE:
            user = await create_user(
                session,
                tenant_id=tenant.id,
                email=email,
                name=name,
                password=DEMO_PASSWORD,
                roles=[role],
                department_id=regions[department].id if department else None,
            )
            people[email.split("@")[0]] = user.id
        await _seed_chat(session, tenant.id, people)
    return [DemoLogin(email=e, name=n, role=r) for e, n, r, _ in PEOPLE]


async def _seed_chat(session: AsyncSession, tenant_id: UUID, people: dict[str, UUID]) -> None:
    """Two channels everyone is in, a first exchange, and a direct message, so the client opens on a
    living workspace (no hub yet: nobody is connected, nothing to publish)."""
    admin = Conversations(session=session, tenant_id=tenant_id, user_id=people["admin"], effects=Effects())
    everyone = [user_id for name, user_id in people.items() if name != "admin"]
    general = await admin.create_channel(
        name="general", kind="public", topic="Announcements and chatter", member_ids=everyone
    )
    visits = await admin.create_channel(
        name="store-visits", kind="public", topic="Today's store visits", member_ids=everyone
    )
    script = [
        ("admin", general.id, "Welcome to fieldhub! Say hi 👋"),
        ("supervisor", visits.id, f"<@{people['ana']}> can you check the endcap at store 12 this morning?"),
        ("ana", visits.id, "On it, there by 9:30."),
        ("ben", visits.id, "Store 7 planogram done: https://example.com/planograms/7"),
    ]
    for n, (who, conversation_id, body) in enumerate(script):
        speaker = Conversations(session=session, tenant_id=tenant_id, user_id=people[who], effects=Effects())
        await Messages(conversations=speaker).send(conversation_id, body=body, client_id=f"demo-{n}")
    ana = Conversations(session=session, tenant_id=tenant_id, user_id=people["ana"], effects=Effects())
    direct, _ = await ana.open_direct(people["supervisor"])
    await Messages(conversations=ana).send(direct.id, body="Running 10 minutes late, traffic.", client_id="demo-dm")
