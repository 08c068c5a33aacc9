"""Delivery records: per notification (its recipient or an admin), and the tenant's failures with retry (admin)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, get, post
from litestar.params import PathParameter

from api.auth.guards import requires
from api.auth.permissions import Permission
from api.deps import CallerDep
from api.notifications import deps
from api.notifications.deps import Limit, NotificationsDep, Offset
from api.notifications.schemas import DeliveryResponse, delivery_response
from api.schemas import Page


class DeliveryController(Controller):
    path = "/api/v1/notifications"
    tags = ["notification deliveries"]
    dependencies = {"notifications": deps.notifications}

    @get("/{notification_id:uuid}/deliveries", operation_id="ListNotificationDeliveries")
    async def deliveries(
        self,
        notifications: NotificationsDep,
        current_user: CallerDep,
        notification_id: Annotated[UUID, PathParameter(description="The notification's id.")],
    ) -> list[DeliveryResponse]:
        """Each channel's status and every attempt (queued, sent, delivered, failed, bounced, skipped and why)."""
        admin = current_user.can(Permission.NOTIFICATIONS_ADMIN)
        rows = await notifications.deliveries(notification_id, actor=current_user, admin=admin)
        return [delivery_response(d) for d in rows]

    @get(
        "/deliveries/failures",
        operation_id="ListFailedDeliveries",
        guards=[requires(Permission.NOTIFICATIONS_ADMIN)],
    )
    async def failures(
        self, notifications: NotificationsDep, limit: Limit = 50, offset: Offset = 0
    ) -> Page[DeliveryResponse]:
        """Failed and bounced deliveries of the tenant, most recent first."""
        rows, total = await notifications.failures(limit=limit, offset=offset)
        return Page(items=[delivery_response(d) for d in rows], total=total, limit=limit, offset=offset)

    @post(
        "/deliveries/{delivery_id:uuid}/retry",
        operation_id="RetryDelivery",
        status_code=202,
        guards=[requires(Permission.NOTIFICATIONS_ADMIN)],
    )
    async def retry(
        self,
        notifications: NotificationsDep,
        current_user: CallerDep,
        delivery_id: Annotated[UUID, PathParameter(description="The delivery's id.")],
    ) -> DeliveryResponse:
        """Queue a failed push or email delivery again (``409 not_retryable`` for any other)."""
        return delivery_response(await notifications.retry(delivery_id, actor=current_user))
