"""``notify``: the one entry point that turns an event into notifications, inbox events and delivery jobs.

Everything is written in the caller's transaction (outbox): a rollback sends nothing, a commit
always sends. The idempotency key makes a repeated call return the first call's notifications.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID

import msgspec
from sqlalchemy import bindparam, func, select
from sqlalchemy.dialects.postgresql import insert
from uuid_utils.compat import uuid7

from delivery.categories import category_by_key
from delivery.errors import NotifyError
from delivery.inbox import append_created_events
from delivery.outbox import (
    DIGEST_JOB,
    EMAIL_NOTIFICATION_JOB,
    PUSH_JOB,
    DigestJob,
    NotificationJob,
    insert_rows,
    job_key,
)
from delivery.recipients import Recipients, resolve_recipients
from delivery.routing import ChannelPlan, Choices, digest_minutes, digest_window_end, plan_route
from persistence.jobs import enqueue_many, job_values
from persistence.models import (
    Notification,
    NotificationDelivery,
    NotificationPreference,
    NotificationRequest,
    NotificationSettings,
)
from persistence.prepared import UUIDS, Prepared

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from delivery.recipients import Recipient
    from persistence.models import NotificationCategory

__all__ = ["Action", "Recipients", "notify"]

Priority = Literal["low", "normal", "high", "critical"]
MAX_TITLE = 200
MAX_BODY = 4000
MAX_DATA_BYTES = 4096
MAX_ACTIONS = 3


class Action(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A button on the notification: ``id`` is reported back, ``link`` opens."""

    id: str
    label: str
    link: str | None = None


def _check_content(
    *, title: str, body: str, link: str | None, actions: list[Action], data: dict[str, Any], key: str
) -> None:
    problems: dict[str, str] = {}
    if not title.strip() or len(title) > MAX_TITLE:
        problems["title"] = f"1 to {MAX_TITLE} characters"
    if len(body) > MAX_BODY:
        problems["body"] = f"at most {MAX_BODY} characters"
    if link is not None and (len(link) > 2048 or link.startswith("//") or not link.startswith(("/", "https://"))):
        problems["link"] = "a path starting with / or an https:// URL, at most 2048 characters"
    if len(actions) > MAX_ACTIONS or any(not (0 < len(a.id) <= 64 and 0 < len(a.label) <= 64) for a in actions):
        problems["actions"] = f"at most {MAX_ACTIONS}, each with an id and a label of 1 to 64 characters"
    if not 0 < len(key) <= 200:
        problems["idempotency_key"] = "1 to 200 characters"
    if problems:
        raise NotifyError("invalid_notification", "The notification is malformed.", details=problems)
    if len(msgspec.json.encode(data)) > MAX_DATA_BYTES:
        raise NotifyError(
            "payload_too_large",
            f"data must encode to at most {MAX_DATA_BYTES} bytes of JSON.",
            details={"field": "data"},
        )


_CLAIM_KEY = Prepared(
    insert(NotificationRequest)
    .values({name: bindparam(name) for name in ("id", "tenant_id", "idempotency_key", "category", "created_at")})
    .on_conflict_do_nothing(index_elements=["tenant_id", "idempotency_key"])
    .returning(NotificationRequest.id)
)
"""The idempotency key's row, or none when a call with that key got there first. Prepared: SQLAlchemy 2.0
compiles PostgreSQL's ``INSERT ... ON CONFLICT`` anew at every execution (sqlalchemy/sqlalchemy#10445)."""


async def _existing(session: AsyncSession, key: str) -> list[UUID] | None:
    request_id = await session.scalar(select(NotificationRequest.id).where(NotificationRequest.idempotency_key == key))
    if request_id is None:
        return None
    rows = await session.scalars(
        select(Notification.id).where(Notification.request_id == request_id).order_by(Notification.id)
    )
    return list(rows.all())


async def notify(
    session: AsyncSession,
    *,
    tenant_id: UUID,
    recipients: Recipients,
    category: str,
    title: str,
    body: str,
    priority: Priority = "normal",
    link: str | None = None,
    actions: list[Action] | None = None,
    data: dict[str, Any] | None = None,
    idempotency_key: str,
) -> list[UUID]:
    """Notify ``recipients`` inside the caller's transaction (which must run as ``tenant_id``).

    Writes one inbox notification per active recipient, its inbox event (published live after
    commit), a delivery record per channel the category uses (skipped ones with the reason: the
    user's preference, a mute) and the push, email or digest jobs routing chose.

    Returns:
        The notification ids, one per recipient, ordered by id; the first call's ids when
        ``idempotency_key`` was used before (nothing new is written).

    Raises:
        NotifyError: ``invalid_notification`` / ``payload_too_large`` for bad content,
            ``unknown_category``, ``unknown_recipients``, ``critical_not_allowed`` for a critical
            notification in a category that does not allow it. Nothing is written then.
    """
    actions = actions or []
    data = data or {}
    if priority not in ("low", "normal", "high", "critical"):
        raise NotifyError("invalid_notification", "Unknown priority.", details={"priority": priority})
    _check_content(title=title, body=body, link=link, actions=actions, data=data, key=idempotency_key)
    existing = await _existing(session, idempotency_key)
    if existing is not None:
        return existing
    kind = await category_by_key(session, tenant_id, category)
    if priority == "critical" and not kind.critical:
        raise NotifyError(
            "critical_not_allowed",
            f"Category {category!r} cannot send critical notifications.",
            details={"category": category},
        )
    people = await resolve_recipients(session, recipients)
    now = datetime.now(UTC)
    request_id = await _CLAIM_KEY.scalar(
        session, id=uuid7(), tenant_id=tenant_id, idempotency_key=idempotency_key, category=category, created_at=now
    )
    if request_id is None:
        # A concurrent call with the same key committed first.
        return await _existing(session, idempotency_key) or []
    settings, preferences = await _load_choices(session, kind, [p.id for p in people])
    content = {
        "category": category,
        "priority": priority,
        "title": title,
        "body": body,
        "link": link,
        "actions": [msgspec.to_builtins(a) for a in actions],
        "data": data,
    }
    return await _notify_all(
        session,
        tenant_id=tenant_id,
        request_id=request_id,
        people=people,
        category=kind,
        content=content,
        settings=settings,
        preferences=preferences,
        now=now,
    )


async def _load_choices(
    session: AsyncSession, category: NotificationCategory, user_ids: list[UUID]
) -> tuple[dict[UUID, Choices], dict[UUID, dict[str, bool]]]:
    """Each user's settings (none: the defaults) and their choices per channel for ``category``, in one read."""
    if not user_ids:
        return {}, {}
    settings: dict[UUID, Choices] = {}
    preferences: dict[UUID, dict[str, bool]] = {}
    for row in await _CHOICES.fetch(session, user_ids=user_ids, category_id=category.id):
        if row.settings_id is not None:
            settings[row.user_id] = row
        if row.preferences:
            preferences[row.user_id] = row.preferences
    return settings, preferences


def _choices() -> Prepared:
    wanted = func.unnest(bindparam("user_ids", type_=UUIDS)).table_valued("user_id").render_derived(name="wanted")
    chosen = (
        select(func.json_object_agg(NotificationPreference.channel, NotificationPreference.enabled))
        .where(
            NotificationPreference.user_id == wanted.c.user_id,
            NotificationPreference.category_id == bindparam("category_id"),
        )
        .scalar_subquery()
    )
    return Prepared(
        select(
            wanted.c.user_id,
            NotificationSettings.id.label("settings_id"),
            NotificationSettings.muted,
            NotificationSettings.quiet_start,
            NotificationSettings.quiet_end,
            NotificationSettings.digest_minutes,
            chosen.label("preferences"),
        ).select_from(wanted.outerjoin(NotificationSettings, NotificationSettings.user_id == wanted.c.user_id))
    )


_CHOICES = _choices()


async def _notify_all(
    session: AsyncSession,
    *,
    tenant_id: UUID,
    request_id: UUID,
    people: list[Recipient],
    category: NotificationCategory,
    content: dict[str, Any],
    settings: dict[UUID, Choices],
    preferences: dict[UUID, dict[str, bool]],
    now: datetime,
) -> list[UUID]:
    """Write every recipient's notification, inbox event, deliveries and jobs: a handful of
    multi-row statements per call, however many recipients."""
    notifications: list[dict[str, Any]] = []
    events: list[tuple[UUID, dict[str, Any]]] = []
    deliveries: list[dict[str, Any]] = []
    jobs: list[dict[str, Any]] = []
    ids: list[UUID] = []
    for person in people:
        plan = plan_route(
            category=category,
            priority=content["priority"],
            preferences=preferences.get(person.id, {}),
            settings=settings.get(person.id),
            timezone=person.timezone,
            now=now,
        )
        notification_id = UUID(bytes=uuid7().bytes)
        ids.append(notification_id)
        in_app = plan.channels["in_app"]
        notifications.append(
            {
                "id": notification_id,
                "tenant_id": tenant_id,
                "request_id": request_id,
                "user_id": person.id,
                "state": "unread" if in_app.send else "archived",
                "overrode": plan.overrode,
                "seen_at": None,
                "read_at": None,
                "archived_at": None if in_app.send else now,
                "created_at": now,
                "updated_at": now,
                **content,
            }
        )
        if in_app.send:
            item = inbox_item(notification_id, content, now, plan.overrode)
            events.append((person.id, {"kind": "notification.created", "notification": item}))
        for channel, decision in plan.channels.items():
            if decision.reason == "category_default":
                # Not a delivery: the category never sends on this channel, and a row saying so
                # would be one more write for every notification.
                continue
            deliveries.append(_delivery_row(tenant_id, notification_id, person, channel, decision, plan.overrode, now))
            if decision.send and channel != "in_app":
                jobs.append(_job_row(tenant_id, notification_id, person, channel, decision, settings, now))
    if not notifications:
        return []
    await insert_rows(session, Notification, notifications)
    await append_created_events(session, tenant_id=tenant_id, events=events)
    await insert_rows(session, NotificationDelivery, deliveries)
    await enqueue_many(session, jobs)
    return ids


def _delivery_row(
    tenant_id: UUID,
    notification_id: UUID,
    person: Recipient,
    channel: str,
    decision: ChannelPlan,
    overrode: list[str],
    now: datetime,
) -> dict[str, Any]:
    status = "delivered" if channel == "in_app" and decision.send else "queued" if decision.send else "skipped"
    entry: dict[str, Any] = {"at": now.isoformat(), "status": status}
    if decision.reason:
        entry["reason"] = decision.reason
    if overrode and decision.send and channel != "in_app":
        entry["overrode"] = overrode
    return {
        "id": uuid7(),
        "tenant_id": tenant_id,
        "notification_id": notification_id,
        "user_id": person.id,
        "channel": channel,
        "status": status,
        "reason": decision.reason if not decision.send else None,
        "attempts": 0,
        "target": person.email if channel == "email" else None,
        "scheduled_at": decision.run_at,
        "digest": decision.digest,
        "log": [entry],
        "created_at": now,
        "updated_at": now,
    }


def _job_row(
    tenant_id: UUID,
    notification_id: UUID,
    person: Recipient,
    channel: str,
    decision: ChannelPlan,
    settings: dict[UUID, Choices],
    now: datetime,
) -> dict[str, Any]:
    if decision.digest:
        window_end = digest_window_end(decision.run_at or now, digest_minutes(settings.get(person.id)))
        return job_values(
            tenant_id=tenant_id,
            kind=DIGEST_JOB,
            payload=msgspec.to_builtins(DigestJob(user_id=person.id, window_end=window_end)),
            idempotency_key=f"{person.id}:{int(window_end.timestamp())}",
            run_at=window_end,
            now=now,
        )
    kind = PUSH_JOB if channel == "push" else EMAIL_NOTIFICATION_JOB
    return job_values(
        tenant_id=tenant_id,
        kind=kind,
        payload=msgspec.to_builtins(NotificationJob(notification_id=notification_id)),
        idempotency_key=job_key(kind, notification_id),
        run_at=decision.run_at or now,
        now=now,
    )


def inbox_item(
    notification_id: UUID, content: dict[str, Any], created_at: datetime, overrode: list[str]
) -> dict[str, Any]:
    """A notification as inbox events and the HTTP list show it."""
    item = {"id": str(notification_id), **content, "state": "unread", "created_at": created_at.isoformat()}
    if overrode:
        item["overrode"] = overrode
    return item
