"""The send path's statements, built once: a batch of sends costs five round trips whatever its size."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from sqlalchemy import String, and_, any_, bindparam, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY

from channels.moderation.screening import screening_columns
from persistence.models import Conversation, ConversationEvent, ConversationMember, Message
from persistence.prepared import UUIDS

if TYPE_CHECKING:
    from uuid import UUID

    from sqlalchemy import BindParameter, Table

MESSAGE = cast("Table", Message.__table__)
# Every row of a batch in one statement (one round trip, one prepared statement whatever the batch
# size): the messages (those without files; those were stored under their savepoint), their events,
# the senders' read positions and the conversation's counter. Per-message lists travel as arrays;
# a message's mentions as a ``uuid[]`` literal, its links as a JSON array.
WRITE = text(
    """
    WITH stored AS (
        INSERT INTO message (id, tenant_id, conversation_id, seq, author_id, client_id, body, thread_root_id,
                             reply_count, thread_participants, mentions, mention_here, mention_channel, links,
                             attachment_ids, created_at, updated_at)
        SELECT m.id, CAST(:tenant_id AS uuid), CAST(:conversation_id AS uuid), m.seq, m.author_id, m.client_id,
               m.body, m.thread_root_id, 0, CAST('{}' AS uuid[]), CAST(m.mentions AS uuid[]), m.here, m.channel,
               ARRAY(SELECT jsonb_array_elements_text(CAST(m.links AS jsonb))), CAST('{}' AS uuid[]),
               CAST(:now AS timestamptz), CAST(:now AS timestamptz)
        FROM unnest(CAST(:m_ids AS uuid[]), CAST(:m_seqs AS bigint[]), CAST(:m_authors AS uuid[]),
                    CAST(:m_client_ids AS text[]), CAST(:m_bodies AS text[]), CAST(:m_roots AS uuid[]),
                    CAST(:m_mentions AS text[]), CAST(:m_here AS boolean[]), CAST(:m_channel AS boolean[]),
                    CAST(:m_links AS text[]))
             AS m(id, seq, author_id, client_id, body, thread_root_id, mentions, here, channel, links)
    ),
    events AS (
        INSERT INTO conversation_event (id, tenant_id, conversation_id, seq, kind, actor_id, message_id, payload,
                                        created_at)
        SELECT e.id, CAST(:tenant_id AS uuid), CAST(:conversation_id AS uuid), e.seq, 'message.created', e.actor_id,
               e.message_id, CAST(e.payload AS jsonb), CAST(:now AS timestamptz)
        FROM unnest(CAST(:e_ids AS uuid[]), CAST(:e_seqs AS bigint[]), CAST(:e_actors AS uuid[]),
                    CAST(:e_messages AS uuid[]), CAST(:e_payloads AS text[]))
             AS e(id, seq, actor_id, message_id, payload)
    ),
    readers AS (
        UPDATE conversation_member AS r SET last_read_seq = p.seq, updated_at = CAST(:now AS timestamptz)
        FROM unnest(CAST(:readers AS uuid[]), CAST(:read_seqs AS bigint[])) AS p(user_id, seq)
        WHERE r.conversation_id = CAST(:conversation_id AS uuid) AND r.user_id = p.user_id
    )
    UPDATE conversation SET last_seq = :last_seq, last_message_at = CAST(:now AS timestamptz),
                            updated_at = CAST(:now AS timestamptz)
    WHERE id = CAST(:conversation_id AS uuid)
    """
)

AUTHORS = bindparam("authors", type_=UUIDS)
CLIENT_IDS = bindparam("client_ids", type_=ARRAY(String))
RETRIED = (
    select(Message.id)
    .where(
        Message.conversation_id == Conversation.id,
        Message.author_id == any_(AUTHORS),
        Message.client_id == any_(CLIENT_IDS),
    )
    .exists()
)
# The statement's snapshot predates the lock when it had to wait for it: what it saw of the
# messages is then older than the row it locked. Comparing the last event it saw with the locked
# ``last_seq`` tells (the retry lookup then runs again, after the lock).
SEEN_SEQ = (
    select(func.max(ConversationEvent.seq))
    .where(ConversationEvent.conversation_id == Conversation.id)
    .scalar_subquery()
)
LOCK = (
    select(
        Conversation,
        ConversationMember.user_id,
        ConversationMember.role,
        RETRIED,
        SEEN_SEQ,
        *screening_columns(AUTHORS, Conversation.id),
    )
    .outerjoin(
        ConversationMember,
        and_(ConversationMember.conversation_id == Conversation.id, ConversationMember.user_id == any_(AUTHORS)),
    )
    .where(Conversation.id == bindparam("conversation_id"))
    .with_for_update(of=Conversation)
    .execution_options(populate_existing=True)
)
EARLIER = select(Message).where(
    Message.conversation_id == bindparam("conversation_id"),
    Message.author_id == any_(AUTHORS),
    Message.client_id == any_(CLIENT_IDS),
)


def uuids(name: str, values: list[UUID]) -> BindParameter[list[UUID]]:
    """A ``uuid[]`` parameter: the statement's text stays the same whatever the count (one prepared statement)."""
    return bindparam(name, values, UUIDS)
