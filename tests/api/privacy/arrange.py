"""A person with data in every domain, and another person beside them, for the export and erasure tests."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.provisioning import create_user
from persistence.backup import libpq_url
from persistence.models import PushSubscription
from tests.api.fieldops.fieldkit import make_workplace, stay, upload
from tests.channels.chat import channel, say
from tests.channels.files import png
from tests.kit import PASSWORD, TenantKit

Client = AsyncTestClient[Litestar]
Headers = dict[str, Any]


@dataclass
class Person:
    """A user with a distinctive name and email, the text of what they wrote, and their bearer headers."""

    id: UUID
    name: str
    email: str
    headers: Headers
    message: str
    file_id: str = ""


async def person(client: Client, kit: TenantKit, role: str = "staff") -> Person:
    """A new user of ``kit`` with a name and email found nowhere else in the database."""
    tag = secrets.token_hex(4)
    name, email = f"Zebulon Quartermaine{tag}", f"zebulon.{tag}@people.example"
    async with kit.runtime.db.transaction(tenant_id=kit.id) as session:
        user = await create_user(session, tenant_id=kit.id, email=email, name=name, password=PASSWORD, roles=[role])
    kit.users[tag] = user.id
    login = {"email": email, "password": PASSWORD, "tenant": kit.slug}
    response = await client.post("/api/v1/auth/login", json=login, headers={"user-agent": f"browser of {name}"})
    assert response.status_code == 200, response.text
    client.cookies.clear()
    return Person(user.id, name, email, {"Authorization": f"Bearer {response.json()['token']}"}, f"note {tag}")


async def with_data_everywhere(client: Client, kit: TenantKit, someone: Person, other: Person) -> None:
    """Give ``someone`` a profile, messages quoting them, a shared file, attendance, tasks, notifications,
    a push subscription and audit entries; ``other`` chats and works beside them."""
    runtime, admin = kit.runtime, await kit.headers(client, "admin")
    tag = next(key for key, value in kit.users.items() if value == someone.id)
    other_tag = next(key for key, value in kit.users.items() if value == other.id)
    phone = await client.patch("/api/v1/users/me", json={"phone": "+33 6 12 34 56 78"}, headers=someone.headers)
    assert phone.status_code == 200, phone.text
    conversation = await channel(runtime, kit, members=(tag, other_tag))
    someone.file_id = await upload(client, someone.headers, png(8, 8), f"{someone.name}.png", "image/png")
    await say(runtime, kit, tag, conversation, f"{someone.message}: I am {someone.name}, mail {someone.email}",
              attachment_ids=[UUID(someone.file_id)])  # fmt: skip
    await say(runtime, kit, other_tag, conversation, f"{other.message} from {other.name}")
    await say(runtime, kit, other_tag, conversation, f"thanks {someone.name}!")
    workplace = await make_workplace(client, admin)
    start = datetime.now(UTC) - timedelta(hours=3)
    await stay(kit, someone.id, workplace["id"], start, start + timedelta(hours=1))
    task = await client.post("/api/v1/tasks", json={"title": "Restock", "assignee_id": str(someone.id)}, headers=admin)
    assert task.status_code == 201, task.text
    comment = {"body": f"{someone.message} done by {someone.name}"}
    commented = await client.post(f"/api/v1/tasks/{task.json()['id']}/comments", json=comment, headers=someone.headers)
    assert commented.status_code == 201, commented.text
    notice = {
        "recipients": {"users": [str(someone.id), str(other.id)]},
        "category": "task",
        "title": f"Welcome {someone.name}",
        "body": f"Write to {someone.email}",
        "idempotency_key": secrets.token_hex(8),
    }
    sent = await client.post("/api/v1/notifications", json=notice, headers=admin)
    assert sent.status_code == 201, sent.text
    async with runtime.db.transaction(tenant_id=kit.id) as session:
        session.add(
            PushSubscription(
                tenant_id=kit.id,
                user_id=someone.id,
                endpoint=f"https://push.example/{secrets.token_hex(8)}",
                p256dh="p256dh",
                auth="auth",
                user_agent=f"phone of {someone.name}",
            )
        )
    wrong = {"email": someone.email, "password": "not-the-password", "tenant": kit.slug}
    await client.post("/api/v1/auth/login", json=wrong)


async def places_quoting(owner_url: str, *needles: str) -> list[str]:
    """``table.column`` of every value in the whole database containing a needle: text, varchar, json, arrays,
    search vectors, and bytes (stored JSON or CSV) read as escaped text."""
    connection = await asyncpg.connect(libpq_url(owner_url))
    try:
        columns = await connection.fetch(
            "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'public' "
            "AND data_type IN ('text', 'character varying', 'jsonb', 'json', 'ARRAY', 'tsvector', 'bytea')"
        )
        found = []
        for table, column, data_type in columns:
            value = f"encode(\"{column}\", 'escape')" if data_type == "bytea" else f'"{column}"::text'
            for needle in needles:
                hit = await connection.fetchval(
                    f'SELECT count(*) FROM "{table}" WHERE strpos(lower({value}), lower($1)) > 0',  # noqa: S608
                    needle,
                )
                if hit:
                    found.append(f"{table}.{column}")
        return found
    finally:
        await connection.close()
