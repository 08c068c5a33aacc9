"""Erasing a person: their personal data anonymised across every domain, in one transaction, as the tenant.

The steps, in the caller's transaction:

1. The account is disabled through the users service: the last admin is refused (``last_admin``)
   and every session is revoked (sockets are closed once the caller has committed).
2. Their audit entries (as actor or target, or quoting them) are pseudonymised: personal fields
   rewritten, salt dropped, each pointing at the chained ``privacy.user_erased`` entry recorded
   here, which counts them (see :mod:`persistence.audit_chain`).
3. Every table's declaration (:mod:`api.privacy.registry`) is applied: rows deleted, columns
   blanked, messages tombstoned or left unattributed per the tenant's policy.
4. Their email and full name quoted anywhere else (another person's notification and its inbox
   event, a queued email job, a conversation topic, a kept report's CSV) are replaced in every text,
   JSON and text-array column of every tenant table, and in the byte columns of ``TEXT_IN_BYTES``. The name is matched as whole words and case-sensitively, and only when at least
   four characters long, so a short name does not rewrite unrelated words.

Files are deleted from storage after commit, with a deletion job enqueued in the transaction
should that fail.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Final
from uuid import UUID

import msgspec
from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import ARRAY, Boolean, Float, Integer, Numeric, String

from api.audit import Origin, record
from api.errors import AppError
from api.identity.schemas import UserUpdate
from api.identity.services import UserService
from api.privacy.policy import load_policy
from api.privacy.registry import ERASED_NAME, PersonalData, declared
from channels.attachments import schedule_file_deletion
from persistence.audit_chain import ERASURE_ACTION
from persistence.audit_staging import link_audit_now
from persistence.base import metadata, tenant_tables
from persistence.models import AuditEvent, User

if TYPE_CHECKING:
    from sqlalchemy import Column
    from sqlalchemy.ext.asyncio import AsyncSession

    from api.auth.principal import CurrentUser
    from api.auth.services import AuthService

ERASED_DOMAIN: Final = "@erased.invalid"
MIN_QUOTED_NAME: Final = 4
# The audit trail is pseudonymised on its own terms (step 2); people's own names are their data.
NOT_SWEPT: Final = frozenset({"audit_event", "app_user"})
# Byte columns that hold UTF-8 text (an inbox event's JSON, a scheduled report's CSV): swept as text too.
TEXT_IN_BYTES: Final = frozenset({("notification_inbox_event", "payload"), ("report_run", "output")})


class ErasureReport(msgspec.Struct, kw_only=True):
    """What erasing one person changed."""

    user_id: UUID
    messages: str
    rows: dict[str, int]
    files_deleted: int
    audit_entries: int
    sessions_revoked: list[UUID]


async def erase_user(
    session: AsyncSession, user_id: UUID, *, actor: CurrentUser, origin: Origin, auth: AuthService
) -> tuple[ErasureReport, list[str]]:
    """Anonymise ``user_id``'s personal data in the caller's transaction.

    Returns:
        The report, and the storage keys whose bytes to delete once the caller has committed
        (their deletion job is enqueued already). Announce ``report.sessions_revoked`` after
        commit, as for a disabled user.

    Raises:
        AppError: ``not_found`` (404), ``cannot_erase_self`` (409), ``already_erased`` (409),
            ``last_admin`` (409).
    """
    user = await session.scalar(select(User).where(User.id == user_id).with_for_update())
    if user is None:
        raise AppError("not_found", "No user with this id.", status_code=404)
    if user.id == actor.id:
        raise AppError("cannot_erase_self", "You cannot erase your own account.", status_code=409)
    if user.email.endswith(ERASED_DOMAIN):
        raise AppError("already_erased", "This user was erased already.", status_code=409)
    email, name = user.email, user.name
    _, revoked = await UserService(session=session).update_user(
        user_id, UserUpdate(status="disabled"), actor=actor, origin=origin, auth=auth
    )
    policy = await load_policy(session)
    params = {"user_id": user_id, "email": email}
    keys = await _stored_files(session, params)
    audit_entries = await _pseudonymise_audit(
        session, user_id=user_id, email=email, name=name, actor=actor, origin=origin
    )
    rows: dict[str, int] = {}
    for declaration in declared():
        if declaration.erase == "keep" or declaration.when not in (None, policy.message_erasure):
            continue
        changed = await _apply(session, declaration, params)
        rows[declaration.table] = rows.get(declaration.table, 0) + changed
    rows["quoted"] = await _replace_quotes(session, email=email, name=name, placeholder=_placeholder(user_id))
    await schedule_file_deletion(session, tenant_id=actor.tenant_id, keys=keys)
    report = ErasureReport(
        user_id=user_id,
        messages=policy.message_erasure,
        rows={table: count for table, count in rows.items() if count},
        files_deleted=len(keys),
        audit_entries=audit_entries,
        sessions_revoked=revoked,
    )
    return report, keys


def _placeholder(user_id: UUID) -> str:
    return f"erased-{user_id.hex}{ERASED_DOMAIN}"


async def _stored_files(session: AsyncSession, params: dict[str, Any]) -> list[str]:
    keys: list[str] = []
    for declaration in declared():
        if declaration.files and declaration.erase == "delete":
            query = f"SELECT {declaration.files} FROM {declaration.table} WHERE {declaration.owned()}"  # noqa: S608
            keys += [key for key in await session.scalars(text(query), params) if key]
    return keys


async def _apply(session: AsyncSession, declaration: PersonalData, params: dict[str, Any]) -> int:
    """Delete or scrub the person's rows of one table; how many rows changed."""
    table, owned = declaration.table, declaration.owned()
    if declaration.erase == "delete":
        statement = f"DELETE FROM {table} WHERE {owned}"  # noqa: S608
    else:
        columns = metadata.tables[table].columns
        assignments = [f"{name} = {_blank(columns[name])}" for name in declaration.scrub]
        assignments += [f"{name} = {expression}" for name, expression in declaration.rewrite.items()]
        statement = f"UPDATE {table} SET {', '.join(assignments)} WHERE {owned}"  # noqa: S608
    result: Any = await session.execute(text(statement), params)
    return int(result.rowcount or 0)


def _blank(column: Column[Any]) -> str:
    """SQL for an emptied column: NULL when it may be, otherwise its type's empty value."""
    if column.nullable:
        return "NULL"
    if isinstance(column.type, JSONB):
        return "'{}'::jsonb"
    if isinstance(column.type, ARRAY):
        return "'{}'"
    if isinstance(column.type, Boolean):
        return "false"
    if isinstance(column.type, Integer | Float | Numeric):
        return "0"
    if isinstance(column.type, String):
        return "''"
    raise TypeError(f"cannot blank {column.table.name}.{column.name} of type {column.type}")


def _patterns(email: str, name: str) -> tuple[str, str | None]:
    """PostgreSQL regular expressions for the email (case-insensitive) and the whole name (or none if too short)."""
    return re.escape(email), (rf"\m{re.escape(name)}\M" if len(name.strip()) >= MIN_QUOTED_NAME else None)


async def _pseudonymise_audit(
    session: AsyncSession, *, user_id: UUID, email: str, name: str, actor: CurrentUser, origin: Origin
) -> int:
    """Pseudonymise the audit entries about or by the person, under a new chained erasure entry; how many."""
    # Every entry committed so far, and this transaction's own about the person, get their seq now;
    # an entry another transaction commits after this point is linked after the erasure, unpseudonymised.
    await link_audit_now(session, actor.tenant_id)
    email_pattern, name_pattern = _patterns(email, name)
    matches = "actor_user_id = :user_id OR target_id = CAST(:user_id AS text) OR details::text ~* :email"
    if name_pattern:
        matches += " OR details::text ~ :name"
    params = {"user_id": user_id, "email": email_pattern, "name": name_pattern or ""}
    linked = f"seq IS NOT NULL AND ({matches})"
    seqs = list(
        await session.scalars(text(f"SELECT seq FROM audit_event WHERE {linked} ORDER BY seq"), params)  # noqa: S608
    )
    record(
        session,
        tenant_id=actor.tenant_id,
        action=ERASURE_ACTION,
        actor_user_id=actor.id,
        origin=origin,
        target_type="user",
        target_id=user_id,
        details={"audit_entries": len(seqs), "first_audit_seq": seqs[0] if seqs else 0},
    )
    await link_audit_now(session, actor.tenant_id)
    erasure_seq = await session.scalar(
        select(AuditEvent.seq)
        .where(AuditEvent.action == ERASURE_ACTION, AuditEvent.seq.is_not(None))
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    )
    details = "regexp_replace(details::text, :email, :placeholder, 'gi')"
    if name_pattern:
        details = f"regexp_replace({details}, :name, :erased_name, 'g')"
    await session.execute(
        text(
            "UPDATE audit_event SET "  # noqa: S608
            "ip = CASE WHEN actor_user_id = :user_id THEN NULL ELSE ip END, "
            "user_agent = CASE WHEN actor_user_id = :user_id THEN NULL ELSE user_agent END, "
            f"details = CAST({details} AS jsonb), personal_salt = NULL, pseudonymised_by = :erasure "
            "WHERE seq = ANY(:seqs)"
        ),
        {
            **params,
            "placeholder": _placeholder(user_id),
            "erased_name": ERASED_NAME,
            "erasure": erasure_seq,
            "seqs": seqs,
        },
    )
    return len(seqs)


async def _replace_quotes(session: AsyncSession, *, email: str, name: str, placeholder: str) -> int:
    """Replace the email and name wherever another table quotes them; how many values changed."""
    email_pattern, name_pattern = _patterns(email, name)
    params = {
        "email": email_pattern,
        "name": name_pattern or "",
        "placeholder": placeholder,
        "erased_name": ERASED_NAME,
    }
    changed = 0
    for table_name in tenant_tables():
        if table_name in NOT_SWEPT:
            continue
        for column in metadata.tables[table_name].columns:
            kind = column.type.item_type if isinstance(column.type, ARRAY) else column.type
            in_bytes = (table_name, column.name) in TEXT_IN_BYTES
            if column.computed is not None or not (in_bytes or isinstance(kind, String | JSONB)):
                continue
            value = "item" if isinstance(column.type, ARRAY) else column.name
            if in_bytes:
                as_text = f"convert_from({value}, 'UTF8')"
            else:
                as_text = f"{value}::text" if isinstance(kind, JSONB) else value
            replaced = f"regexp_replace({as_text}, :email, :placeholder, 'gi')"
            where = f"{as_text} ~* :email"
            if name_pattern:
                replaced = f"regexp_replace({replaced}, :name, :erased_name, 'g')"
                where += f" OR {as_text} ~ :name"
            if in_bytes:
                replaced = f"convert_to({replaced}, 'UTF8')"
            elif isinstance(kind, JSONB):
                replaced = f"CAST({replaced} AS jsonb)"
            elif isinstance(kind, String) and kind.length:
                # The placeholder may be longer than the email it replaces.
                replaced = f"left({replaced}, {kind.length})"
            if isinstance(column.type, ARRAY):
                items = f"unnest({column.name}) WITH ORDINALITY AS u(item, n)"
                replaced = f"ARRAY(SELECT {replaced} FROM {items} ORDER BY n)"  # noqa: S608
                where = f"EXISTS (SELECT FROM {items} WHERE {where})"
            statement = f"UPDATE {table_name} SET {column.name} = {replaced} WHERE {where}"  # noqa: S608
            result: Any = await session.execute(text(statement), params)
            changed += int(result.rowcount or 0)
    return changed
