"""Throwaway benchmark databases and a chat tenant seeded through the application's own code.

Every database made here is named ``fieldhub_bench_<hex>`` and dropped by the benchmark that made it.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import asyncpg
from sqlalchemy.engine import make_url

from api.auth.passwords import hash_password
from api.provisioning import create_tenant, create_user
from channels.conversations import Conversations
from channels.effects import Effects
from persistence import migrate
from persistence.backup import libpq_url
from persistence.engine import Database, app_role_url

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from uuid import UUID

SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PASSWORD = "bench-password-not-secret"  # noqa: S105 - every bench user's, in a throwaway database


@dataclass
class BenchDatabase:
    """A fresh, migrated database on the local server; ``owner_url`` for SQLAlchemy, ``dsn`` for asyncpg."""

    name: str
    owner_url: str
    dsn: str
    app_url: str

    @classmethod
    async def create(cls, server_url: str = SERVER_URL) -> BenchDatabase:
        name = f"fieldhub_bench_{secrets.token_hex(4)}"
        host = make_url(server_url).host
        if host not in ("127.0.0.1", "localhost", None):
            raise ValueError("benchmarks run only against a local PostgreSQL")
        connection = await asyncpg.connect(libpq_url(server_url))
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()
        owner = make_url(server_url).set(drivername="postgresql+asyncpg", database=name).render_as_string(False)
        database = cls(name=name, owner_url=owner, dsn=libpq_url(owner), app_url=app_role_url(owner))
        await asyncio.to_thread(migrate.upgrade, owner)
        return database

    async def drop(self, server_url: str = SERVER_URL) -> None:
        connection = await asyncpg.connect(libpq_url(server_url))
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        finally:
            await connection.close()


@contextlib.asynccontextmanager
async def bench_database(keep: bool = False) -> AsyncIterator[BenchDatabase]:
    """A fresh migrated database for the duration of the block (dropped afterwards unless ``keep``)."""
    database = await BenchDatabase.create()
    try:
        yield database
    finally:
        if not keep:
            await database.drop()


@dataclass
class ChatSeed:
    """A tenant with users and conversations. ``rooms[c]`` are the indexes into ``emails`` of conversation c's members."""

    tenant_id: UUID
    slug: str
    emails: list[str] = field(default_factory=list)
    user_ids: list[UUID] = field(default_factory=list)
    conversation_ids: list[UUID] = field(default_factory=list)
    rooms: list[list[int]] = field(default_factory=list)


async def seed_chat(database: BenchDatabase, *, conversations: int, members: int, users: int) -> ChatSeed:
    """One tenant, ``users`` staff users sharing one password, ``conversations`` private channels of ``members``.

    Conversation ``c`` holds users ``(c * members + j) % users`` for ``j < members``: with
    ``users = conversations * members`` every user is in exactly one conversation.
    """
    if members > users:
        raise ValueError("a conversation cannot have more members than there are users")
    db = Database(url=database.app_url, pool_size=2)
    slug = f"bench-{secrets.token_hex(3)}"
    shared_hash = await hash_password(PASSWORD)
    try:
        async with db.transaction() as session:
            tenant = await create_tenant(session, name="Bench", slug=slug)
            seed = ChatSeed(tenant_id=tenant.id, slug=slug)
            for index in range(users):
                # One argon2 hash for everyone: hashing a thousand passwords would only slow the setup.
                user = await create_user(
                    session, tenant_id=tenant.id, email=f"u{index}@{slug}.bench", name=f"User {index}", password=None
                )
                user.password_hash = shared_hash
                seed.emails.append(user.email)
                seed.user_ids.append(user.id)
            await session.flush()
        for c in range(conversations):
            room = [(c * members + j) % users for j in range(members)]
            async with db.transaction(tenant_id=seed.tenant_id) as session:
                chat = Conversations(
                    session=session, tenant_id=seed.tenant_id, user_id=seed.user_ids[room[0]], effects=Effects()
                )
                conversation = await chat.create_channel(
                    name=f"bench-{c}", kind="private", member_ids=[seed.user_ids[i] for i in room[1:]]
                )
                seed.conversation_ids.append(conversation.id)
                seed.rooms.append(room)
        return seed
    finally:
        await db.dispose()
