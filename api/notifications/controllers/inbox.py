"""Send notifications, and the caller's inbox: list, counts, one, and state changes (one, many, all)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, get, patch, post
from litestar.params import JSONBody, PathParameter, QueryParameter

from api.auth.guards import requires
from api.auth.permissions import Permission
from api.deps import CallerDep
from api.errors import AppError
from api.notifications import deps
from api.notifications.deps import Limit, NotificationsDep, Offset
from api.notifications.schemas import (
    InboxCounts,
    NotificationCreate,
    NotificationResponse,
    NotificationsCreated,
    Priority,
    State,
    StateChange,
    StateChanged,
    StateOne,
    notification_response,
)
from api.schemas import Page

NotificationId = Annotated[UUID, PathParameter(description="The notification's id.")]


class InboxController(Controller):
    path = "/api/v1/notifications"
    tags = ["notifications"]
    dependencies = {"notifications": deps.notifications}

    @post("/", operation_id="SendNotification", status_code=201, guards=[requires(Permission.NOTIFICATIONS_SEND)])
    async def send(
        self, data: JSONBody[NotificationCreate], notifications: NotificationsDep, current_user: CallerDep
    ) -> NotificationsCreated:
        """Notify users, role holders or departments; the same ``idempotency_key`` returns the first call's ids."""
        return NotificationsCreated(ids=await notifications.send(data, actor=current_user))

    @get("/", operation_id="ListNotifications")
    async def list_notifications(
        self,
        notifications: NotificationsDep,
        current_user: CallerDep,
        states: Annotated[
            list[State] | None,
            QueryParameter(name="state", description="Only these states (default: all but archived)."),
        ] = None,
        category: Annotated[str | None, QueryParameter(max_length=64, description="Only this category.")] = None,
        priority: Annotated[Priority | None, QueryParameter(description="Only this priority.")] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[NotificationResponse]:
        """The caller's notifications, newest first."""
        rows, total = await notifications.inbox_page(
            user_id=current_user.id,
            limit=limit,
            offset=offset,
            states=list(states) if states else None,
            category=category,
            priority=priority,
        )
        return Page(items=[notification_response(n) for n in rows], total=total, limit=limit, offset=offset)

    @get("/counts", operation_id="InboxCounts")
    async def counts(self, notifications: NotificationsDep, current_user: CallerDep) -> InboxCounts:
        """Unread and unseen counts, and the inbox topic with its last ``seq`` (to subscribe from)."""
        counts, seq, topic = await notifications.counts(tenant_id=current_user.tenant_id, user_id=current_user.id)
        return InboxCounts(unread=counts.unread, unseen=counts.unseen, seq=seq, topic=topic)

    @get("/{notification_id:uuid}", operation_id="GetNotification")
    async def get_notification(
        self, notifications: NotificationsDep, current_user: CallerDep, notification_id: NotificationId
    ) -> NotificationResponse:
        """One of the caller's notifications (404 for anyone else's)."""
        return notification_response(await notifications.mine(notification_id, current_user.id))

    @patch("/{notification_id:uuid}", operation_id="ChangeNotificationState")
    async def change_one(
        self,
        notifications: NotificationsDep,
        current_user: CallerDep,
        notification_id: NotificationId,
        data: JSONBody[StateOne],
    ) -> NotificationResponse:
        """Mark one notification seen, read, archived or unread; every other device hears of it."""
        await notifications.mine(notification_id, current_user.id)
        await notifications.mark(actor=current_user, state=data.state, ids=[notification_id])
        return notification_response(await notifications.mine(notification_id, current_user.id))

    @post("/state", operation_id="ChangeNotificationsState", status_code=200)
    async def change_many(
        self, notifications: NotificationsDep, current_user: CallerDep, data: JSONBody[StateChange]
    ) -> StateChanged:
        """Mark ``ids`` (at most 1,000), or every notification with ``all: true``; returns the ids that changed."""
        if data.all == bool(data.ids) or len(data.ids) > 1000:
            raise AppError(
                "invalid_request", "Give either 1 to 1,000 ids or all: true.", status_code=400, details={"field": "ids"}
            )
        changed = await notifications.mark(actor=current_user, state=data.state, ids=None if data.all else data.ids)
        return StateChanged(changed=changed)
