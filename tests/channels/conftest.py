"""Chat fixtures: a group-commit writer of sends on the tests' runtime, and a way to break its database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from api.runtime import Runtime
from channels.writer import SendWriter
from persistence.backup import libpq_url

EXPLODING_WORD = "explode-the-batch"


@pytest.fixture
async def sends(runtime: Runtime) -> AsyncIterator[SendWriter]:
    """A writer with no hub (nothing is published) and no notifier; drained before the test ends."""
    writer = SendWriter(db=runtime.db, hub=None, notifier=None)
    yield writer
    await writer.drained()


@pytest.fixture
async def failing_events(database_url: str) -> AsyncIterator[str]:
    """While it lasts, PostgreSQL fails any transaction storing an event whose payload contains the
    returned word: a database failure in the middle of a batch, after its messages were inserted."""
    owner = await asyncpg.connect(libpq_url(database_url))
    try:
        await owner.execute(
            f"""
            CREATE FUNCTION test_explode() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.payload::text LIKE '%{EXPLODING_WORD}%' THEN
                    RAISE EXCEPTION 'the test broke the database';
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER test_explode BEFORE INSERT ON conversation_event
                FOR EACH ROW EXECUTE FUNCTION test_explode();
            """
        )
        yield EXPLODING_WORD
    finally:
        await owner.execute(
            "DROP TRIGGER IF EXISTS test_explode ON conversation_event; DROP FUNCTION IF EXISTS test_explode();"
        )
        await owner.close()
