"""Bulk-load chat history for ``bench.history_search``: a tenant, its conversations, then messages by ``COPY``.

Users and conversations go through the application's code (``api.provisioning``,
``channels.conversations``); the messages and their ``message.created`` events are generated
here and copied in as the owner role, each conversation's ``seq`` continuing gap-free after the
events its creation wrote, and ``conversation.last_seq`` set to the last one.
"""

from __future__ import annotations

import random
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from uuid import UUID

import asyncpg
import msgspec
from uuid_utils.compat import uuid7

from api.provisioning import create_tenant, create_user
from channels.conversations import Conversations
from channels.effects import Effects
from channels.views import ChatEvent, MessageView
from persistence.engine import Database

if TYPE_CHECKING:
    from bench.chatdb import BenchDatabase

# Words a merchandising team types, most frequent first; rarer made-up words follow them.
COMMON_TEXT = (
    "the to and a store shelf is on for in photo done stock display aisle promo price check order "
    "visit manager restock facings planogram missing sku backroom delivery tomorrow today please "
    "thanks report issue fixed waiting brand endcap count damaged label tag competitor audit "
    "cooler freezer shipment pallet signage coupon survey merch route district region store42 "
    "lobby checkout clearance seasonal launch sample demo inventory variance recount approval"
)
MESSAGE_COLUMNS = [
    "id", "tenant_id", "conversation_id", "seq", "author_id", "client_id", "body", "reply_count",
    "thread_participants", "mentions", "mention_here", "mention_channel", "links", "attachment_ids",
    "created_at", "updated_at",
]  # fmt: skip
EVENT_COLUMNS = ["id", "tenant_id", "conversation_id", "seq", "kind", "actor_id", "message_id", "payload", "created_at"]
CHUNK = 50_000


def vocabulary(size: int = 20_000, seed: int = 7) -> list[str]:
    """The common words, then made-up ones (``kelomar``...), ranked for a Zipf-like draw."""
    rng = random.Random(seed)
    syllables = ["ka", "lo", "mar", "ti", "ven", "ro", "sa", "del", "mi", "zu", "pe", "tor", "an", "qui", "bex"]
    words = COMMON_TEXT.split()
    seen = set(words)
    while len(words) < size:
        word = "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


@dataclass
class History:
    """The loaded tenant: ``reader`` is a staff user; ``readable`` the conversations they are a member of."""

    tenant_id: UUID
    reader_id: UUID
    readable: list[UUID]
    conversation_ids: list[UUID]
    words: list[str]
    members: dict[UUID, list[UUID]] = field(default_factory=dict)


async def seed_tenant(database: BenchDatabase, *, conversations: int, users: int, members: int) -> History:
    """Users and conversations through the application's code; a quarter of the channels public.

    User 0 (the reader) belongs to every fifth conversation.
    """
    rng = random.Random(11)
    db = Database(url=database.app_url, pool_size=2)
    try:
        async with db.transaction() as session:
            tenant = await create_tenant(session, name="History bench", slug=f"hist-{uuid7().hex[-8:]}")
            user_ids = []
            for index in range(users):
                user = await create_user(
                    session, tenant_id=tenant.id, email=f"h{index}@hist.bench", name=f"User {index}", password=None
                )
                user_ids.append(user.id)
        history = History(
            tenant_id=tenant.id, reader_id=user_ids[0], readable=[], conversation_ids=[], words=vocabulary()
        )
        for c in range(conversations):
            chosen = rng.sample(user_ids[1:], members - 1)
            if c % 5 == 0:
                chosen.append(user_ids[0])
            async with db.transaction(tenant_id=tenant.id) as session:
                chat = Conversations(session=session, tenant_id=tenant.id, user_id=chosen[0], effects=Effects())
                conversation = await chat.create_channel(
                    name=f"hist-{c}", kind="public" if c % 4 == 1 else "private", member_ids=chosen[1:]
                )
            history.conversation_ids.append(conversation.id)
            history.members[conversation.id] = chosen
            if user_ids[0] in chosen:
                history.readable.append(conversation.id)
        return history
    finally:
        await db.dispose()


def _body(rng: random.Random, words: list[str], weights: list[float]) -> str:
    return " ".join(rng.choices(words, cum_weights=weights, k=rng.randint(5, 20)))


async def load_messages(database: BenchDatabase, history: History, total: int, *, days: int = 365) -> float:
    """COPY ``total`` messages (round-robin over the conversations, oldest first) and their events.

    Returns:
        Seconds spent loading (generation, COPY, index rebuilds, ANALYZE).
    """
    started = time.monotonic()
    rng = random.Random(3)
    words = history.words
    running = 0.0
    weights = []
    for rank in range(1, len(words) + 1):
        running += 1 / rank
        weights.append(running)
    connection = await asyncpg.connect(database.dsn)
    try:
        # The owner loads: foreign keys are right by construction, so their triggers are skipped,
        # and the secondary indexes are rebuilt once at the end instead of row by row.
        await connection.execute("SET session_replication_role = replica")
        await connection.execute("SET maintenance_work_mem = '512MB'")
        rows = await connection.fetch("SELECT id, last_seq FROM conversation WHERE tenant_id = $1", history.tenant_id)
        last_seq: dict[UUID, int] = {row["id"]: row["last_seq"] for row in rows}
        last_at: dict[UUID, datetime] = {}
        indexes = await connection.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'message' AND indexname LIKE 'ix_%'"
        )
        for index in indexes:
            await connection.execute(f'DROP INDEX "{index["indexname"]}"')
        start_at = datetime.now(UTC) - timedelta(days=days)
        step = timedelta(days=days) / max(total, 1)
        ids = history.conversation_ids
        loaded = 0
        while loaded < total:
            count = min(CHUNK, total - loaded)
            messages: list[tuple[object, ...]] = []
            events: list[tuple[object, ...]] = []
            for number in range(loaded, loaded + count):
                conversation_id = ids[number % len(ids)]
                last_seq[conversation_id] += 1
                seq = last_seq[conversation_id]
                author = rng.choice(history.members[conversation_id])
                at = start_at + step * number
                last_at[conversation_id] = at
                message_id = uuid7()
                body = _body(rng, words, weights)
                client_id = f"load-{number}"
                messages.append(
                    (message_id, history.tenant_id, conversation_id, seq, author, client_id, body, 0,
                     [], [], False, False, [], [], at, at)
                )  # fmt: skip
                view = MessageView(
                    id=message_id, conversation_id=conversation_id, seq=seq, author_id=author,
                    client_id=client_id, body=body, created_at=at,
                )  # fmt: skip
                event = ChatEvent(
                    kind="message.created", conversation_id=conversation_id, seq=seq, actor_id=author, at=at,
                    message=view,
                )  # fmt: skip
                payload = msgspec.json.encode(event).decode()
                events.append(
                    (uuid7(), history.tenant_id, conversation_id, seq, "message.created", author, message_id,
                     payload, at)
                )  # fmt: skip
            async with connection.transaction():
                await connection.copy_records_to_table("message", records=messages, columns=MESSAGE_COLUMNS)
                await connection.copy_records_to_table("conversation_event", records=events, columns=EVENT_COLUMNS)
            loaded += count
            print(f"loaded {loaded:,} messages in {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
        for index in indexes:
            await connection.execute(index["indexdef"])
        await connection.executemany(
            "UPDATE conversation SET last_seq = $2, last_message_at = $3 WHERE id = $1",
            [(cid, seq, last_at.get(cid)) for cid, seq in last_seq.items()],
        )
        await connection.execute("ANALYZE message")
        await connection.execute("ANALYZE conversation_event")
        await connection.execute("ANALYZE conversation_member")
        await connection.execute("ANALYZE conversation")
    finally:
        await connection.close()
    return time.monotonic() - started
