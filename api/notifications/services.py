"""Notification rules behind the HTTP routes: each service runs on the request's transaction, as the caller's tenant.

Delivery's :class:`~delivery.errors.NotifyError` becomes an :class:`~api.errors.AppError` with the same code.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

import msgspec
from advanced_alchemy.exceptions import NotFoundError
from advanced_alchemy.filters import CollectionFilter, LimitOffset, OrderBy
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from advanced_alchemy.repository.typing import ModelT
from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from uuid_utils.compat import uuid7

from api.errors import AppError
from api.notifications.schemas import (
    CategoryChoices,
    CategoryCreate,
    CategoryUpdate,
    NotificationCreate,
    PreferencesResponse,
    PreferencesUpdate,
    QuietHours,
)
from delivery.categories import category_by_key, seed_builtin_categories
from delivery.errors import NotifyError
from delivery.inbox import Counts, inbox_topic, read_counts
from delivery.inbox_state import TargetState, change_state
from delivery.notify import Action, notify
from delivery.outbox import EMAIL_NOTIFICATION_JOB, PUSH_JOB, NotificationJob
from delivery.outcomes import record
from delivery.recipients import Recipients
from persistence.jobs import enqueue
from persistence.models import (
    Notification,
    NotificationCategory,
    NotificationDelivery,
    NotificationPreference,
    NotificationSettings,
    User,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from api.auth.principal import CurrentUser


@contextmanager
def delivery_errors(status_code: int = 422) -> Iterator[None]:
    """Re-raise delivery's bad-input errors as API errors with the same code."""
    try:
        yield
    except NotifyError as exc:
        raise AppError(exc.code, exc.message, status_code=status_code, details=exc.details) from None


class _RequestService(SQLAlchemyAsyncRepositoryService[ModelT]):
    """A service on the request's session: its transaction, as the caller's tenant."""

    @property
    def session(self) -> AsyncSession:
        session: AsyncSession = self.repository.session
        return session


class NotificationService(_RequestService[Notification]):
    """The caller's inbox, sending, and delivery records."""

    class Repo(SQLAlchemyAsyncRepository[Notification]):
        model_type = Notification

    repository_type = Repo
    count_with_window_function = False

    async def send(self, data: NotificationCreate, *, actor: CurrentUser) -> list[UUID]:
        """Notify; ``unknown_category`` / ``unknown_recipients`` / ``invalid_notification`` /
        ``payload_too_large`` / ``critical_not_allowed`` (422) on bad input, nothing written."""
        with delivery_errors():
            return await notify(
                self.session,
                tenant_id=actor.tenant_id,
                recipients=msgspec.convert(msgspec.to_builtins(data.recipients), Recipients),
                category=data.category,
                title=data.title,
                body=data.body,
                priority=data.priority,
                link=data.link,
                actions=[Action(id=a.id, label=a.label, link=a.link) for a in data.actions],
                data=data.data,
                idempotency_key=data.idempotency_key,
            )

    async def inbox_page(
        self,
        *,
        user_id: UUID,
        limit: int,
        offset: int,
        states: list[str] | None,
        category: str | None,
        priority: str | None,
    ) -> tuple[Sequence[Notification], int]:
        """The user's notifications, newest first; archived ones only when asked for by ``state``."""
        filters: list[Any] = [CollectionFilter(field_name="user_id", values=[user_id])]
        filters.append(CollectionFilter(field_name="state", values=states or ["unread", "seen", "read"]))
        if category:
            filters.append(CollectionFilter(field_name="category", values=[category]))
        if priority:
            filters.append(CollectionFilter(field_name="priority", values=[priority]))
        filters += [OrderBy("id", "desc"), LimitOffset(limit=limit, offset=offset)]
        return await self.get_many_and_count(*filters)

    async def mine(self, notification_id: UUID, user_id: UUID) -> Notification:
        """The caller's notification; another user's or tenant's is ``NotFoundError`` (404)."""
        return await self.get_one(id=notification_id, user_id=user_id)

    async def counts(self, *, tenant_id: UUID, user_id: UUID) -> tuple[Counts, int, str]:
        counts, seq = await read_counts(self.session, user_id)
        return counts, seq, inbox_topic(tenant_id, user_id)

    async def mark(self, *, actor: CurrentUser, state: TargetState, ids: list[UUID] | None) -> list[UUID]:
        return await change_state(self.session, tenant_id=actor.tenant_id, user_id=actor.id, state=state, ids=ids)

    async def deliveries(self, notification_id: UUID, *, actor: CurrentUser, admin: bool) -> list[NotificationDelivery]:
        """A notification's deliveries; only its recipient or a notifications admin may see them."""
        owner = await self.session.scalar(select(Notification.user_id).where(Notification.id == notification_id))
        if owner is None or (owner != actor.id and not admin):
            raise NotFoundError("No such notification.")
        rows = await self.session.scalars(
            select(NotificationDelivery)
            .where(NotificationDelivery.notification_id == notification_id)
            .order_by(NotificationDelivery.channel)
        )
        return list(rows.all())

    async def failures(self, *, limit: int, offset: int) -> tuple[list[NotificationDelivery], int]:
        """Failed and bounced deliveries of the tenant, most recent first."""
        condition = NotificationDelivery.status.in_(("failed", "bounced"))
        total = await self.session.scalar(select(func.count()).select_from(NotificationDelivery).where(condition))
        rows = await self.session.scalars(
            select(NotificationDelivery)
            .where(condition)
            .order_by(NotificationDelivery.updated_at.desc())
            .limit(limit)
            .offset(offset)
        )
        return list(rows.all()), int(total or 0)

    async def retry(self, delivery_id: UUID, *, actor: CurrentUser) -> NotificationDelivery:
        """Queue a failed push or email delivery again (``not_retryable`` 409 otherwise)."""
        delivery = await self.session.scalar(
            select(NotificationDelivery).where(NotificationDelivery.id == delivery_id).with_for_update()
        )
        if delivery is None:
            raise NotFoundError("No such delivery.")
        if delivery.status not in ("failed", "bounced") or delivery.channel == "in_app":
            raise AppError("not_retryable", "Only failed push or email deliveries can be retried.", status_code=409)
        kind = PUSH_JOB if delivery.channel == "push" else EMAIL_NOTIFICATION_JOB
        await enqueue(
            self.session,
            tenant_id=actor.tenant_id,
            kind=kind,
            payload=msgspec.to_builtins(NotificationJob(notification_id=delivery.notification_id)),
            idempotency_key=f"{kind}:{delivery.notification_id}:retry:{uuid7()}",
        )
        await record(self.session, delivery.id, "queued", reason=None, attempt=False, retried_by=str(actor.id))
        await self.session.refresh(delivery)
        return delivery


class CategoryService(_RequestService[NotificationCategory]):
    """The tenant's notification categories and their defaults."""

    class Repo(SQLAlchemyAsyncRepository[NotificationCategory]):
        model_type = NotificationCategory

    repository_type = Repo

    async def all(self, tenant_id: UUID) -> list[NotificationCategory]:
        await seed_builtin_categories(self.session, tenant_id)
        return list((await self.session.scalars(select(NotificationCategory).order_by(NotificationCategory.key))).all())

    async def by_key(self, tenant_id: UUID, key: str) -> NotificationCategory:
        with delivery_errors(status_code=404):
            return await category_by_key(self.session, tenant_id, key)

    async def create_category(self, data: CategoryCreate, *, tenant_id: UUID) -> NotificationCategory:
        await seed_builtin_categories(self.session, tenant_id)
        if await self.exists(key=data.key):
            raise AppError("conflict", "A category with this key exists.", status_code=409, details={"field": "key"})
        return await self.create(NotificationCategory(tenant_id=tenant_id, **msgspec.structs.asdict(data)))

    async def update_category(self, key: str, data: CategoryUpdate, *, tenant_id: UUID) -> NotificationCategory:
        category = await self.by_key(tenant_id, key)
        for name, value in msgspec.structs.asdict(data).items():
            if value is not msgspec.UNSET:
                setattr(category, name, value)
        return await self.update(category)


class PreferenceService(_RequestService[NotificationSettings]):
    """One user's notification settings and per-category channel overrides."""

    class Repo(SQLAlchemyAsyncRepository[NotificationSettings]):
        model_type = NotificationSettings

    repository_type = Repo

    async def read(self, actor: CurrentUser) -> PreferencesResponse:
        settings = await self.get_one_or_none(user_id=actor.id)
        timezone = await self.session.scalar(select(User.timezone).where(User.id == actor.id)) or "UTC"
        categories = await CategoryService(session=self.session).all(actor.tenant_id)
        overrides: dict[tuple[UUID, str], bool] = {
            (p.category_id, p.channel): p.enabled
            for p in (
                await self.session.scalars(
                    select(NotificationPreference).where(NotificationPreference.user_id == actor.id)
                )
            ).all()
        }

        def effective(category: NotificationCategory, channel: str) -> bool:
            default: bool = getattr(category, channel)
            return default if category.locked else overrides.get((category.id, channel), default)

        quiet = (
            QuietHours(start=settings.quiet_start, end=settings.quiet_end)
            if settings and settings.quiet_start and settings.quiet_end
            else None
        )
        return PreferencesResponse(
            muted=settings.muted if settings else False,
            digest_minutes=settings.digest_minutes if settings else 60,
            timezone=timezone,
            quiet_hours=quiet,
            categories=[
                CategoryChoices(
                    category=c.key,
                    name=c.name,
                    locked=c.locked,
                    in_app=effective(c, "in_app"),
                    email=effective(c, "email"),
                    push=effective(c, "push"),
                )
                for c in categories
            ],
        )

    async def change(self, data: PreferencesUpdate, *, actor: CurrentUser) -> PreferencesResponse:
        """Apply the changes; ``category_locked`` (409) for a locked category, ``unknown_category`` (422)."""
        categories = {c.key: c for c in await CategoryService(session=self.session).all(actor.tenant_id)}
        for choice in data.channels:
            category = categories.get(choice.category)
            if category is None:
                raise AppError("unknown_category", f"No notification category {choice.category!r}.", status_code=422)
            if category.locked:
                raise AppError(
                    "category_locked",
                    f"{category.name} notifications are set by your organisation.",
                    status_code=409,
                    details={"category": category.key},
                )
        now = datetime.now(UTC)
        values: dict[str, Any] = {}
        if data.muted is not msgspec.UNSET:
            values["muted"] = data.muted
        if data.digest_minutes is not msgspec.UNSET:
            values["digest_minutes"] = data.digest_minutes
        if data.quiet_hours is not msgspec.UNSET:
            values["quiet_start"] = data.quiet_hours.start if data.quiet_hours else None
            values["quiet_end"] = data.quiet_hours.end if data.quiet_hours else None
        await self.session.execute(
            insert(NotificationSettings)
            .values(id=uuid7(), tenant_id=actor.tenant_id, user_id=actor.id, created_at=now, updated_at=now, **values)
            .on_conflict_do_update(index_elements=["user_id"], set_={**values, "updated_at": now})
        )
        for choice in data.channels:
            await self.session.execute(
                insert(NotificationPreference)
                .values(
                    id=uuid7(),
                    tenant_id=actor.tenant_id,
                    user_id=actor.id,
                    category_id=categories[choice.category].id,
                    channel=choice.channel,
                    enabled=choice.enabled,
                    created_at=now,
                    updated_at=now,
                )
                .on_conflict_do_update(
                    index_elements=["user_id", "category_id", "channel"],
                    set_={"enabled": choice.enabled, "updated_at": now},
                )
            )
        self.session.expire_all()
        return await self.read(actor)
