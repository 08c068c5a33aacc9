"""Request and response bodies of the notification endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar
from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType

from api.schemas import RequestBody, ResponseBody
from persistence.models import Notification, NotificationCategory, NotificationDelivery

Priority = Literal["low", "normal", "high", "critical"]
State = Literal["unread", "seen", "read", "archived"]
Channel = Literal["in_app", "email", "push"]
CategoryKey = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_.-]*$")]
Clock = Annotated[str, msgspec.Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
Delay = Annotated[int, msgspec.Meta(ge=0, le=7 * 86_400)]


ResponseT = TypeVar("ResponseT", bound=ResponseBody)


def _copied(body_type: type[ResponseT], row: object) -> ResponseT:
    """``body_type`` with each of its fields read from the attribute of ``row`` with the same name."""
    return body_type(**{name: getattr(row, name) for name in body_type.__struct_fields__})


class RecipientsBody(RequestBody):
    """Whom to notify: users, holders of roles, members of departments (with sub-departments), people
    currently assigned to workplaces, members of conversations, minus ``exclude``."""

    users: list[UUID] = msgspec.field(default_factory=list)
    roles: list[str] = msgspec.field(default_factory=list)
    departments: list[UUID] = msgspec.field(default_factory=list)
    workplaces: list[UUID] = msgspec.field(default_factory=list)
    conversations: list[UUID] = msgspec.field(default_factory=list)
    exclude: list[UUID] = msgspec.field(default_factory=list)


class ActionBody(RequestBody):
    id: str
    label: str
    link: str | None = None


class NotificationCreate(RequestBody):
    """A notification to send; the same ``idempotency_key`` never sends twice (the first ids come back)."""

    recipients: RecipientsBody
    category: CategoryKey
    title: str
    idempotency_key: str
    body: str = ""
    priority: Priority = "normal"
    link: str | None = None
    actions: list[ActionBody] = msgspec.field(default_factory=list)
    data: dict[str, Any] = msgspec.field(default_factory=dict)


class NotificationsCreated(ResponseBody):
    ids: list[UUID]


class NotificationResponse(ResponseBody):
    id: UUID
    category: str
    priority: str
    title: str
    body: str
    state: str
    created_at: datetime
    actions: list[dict[str, Any]] = msgspec.field(default_factory=list)
    data: dict[str, Any] = msgspec.field(default_factory=dict)
    overrode: list[str] = msgspec.field(default_factory=list)
    link: str | None = None
    seen_at: datetime | None = None
    read_at: datetime | None = None
    archived_at: datetime | None = None


def notification_response(n: Notification) -> NotificationResponse:
    return _copied(NotificationResponse, n)


class InboxCounts(ResponseBody):
    """``unread`` counts unread and seen notifications; ``unseen`` only those not even seen. ``seq`` is the inbox topic's last."""

    unread: int
    unseen: int
    seq: int
    topic: str


class StateChange(RequestBody):
    """Move ``ids`` (or, with ``all: true``, every notification) to ``state``."""

    state: State
    ids: list[UUID] = msgspec.field(default_factory=list)
    all: bool = False


class StateOne(RequestBody):
    state: State


class StateChanged(ResponseBody):
    changed: list[UUID]


class DeliveryResponse(ResponseBody):
    id: UUID
    notification_id: UUID
    user_id: UUID
    channel: str
    status: str
    attempts: int
    digest: bool
    updated_at: datetime
    log: list[dict[str, Any]]
    reason: str | None = None
    target: str | None = None
    scheduled_at: datetime | None = None


def delivery_response(d: NotificationDelivery) -> DeliveryResponse:
    return _copied(DeliveryResponse, d)


class CategoryResponse(ResponseBody):
    key: str
    name: str
    in_app: bool
    email: bool
    push: bool
    locked: bool
    critical: bool
    push_delay_seconds: int
    email_delay_seconds: int
    is_builtin: bool


def category_response(c: NotificationCategory) -> CategoryResponse:
    return _copied(CategoryResponse, c)


class CategoryCreate(RequestBody):
    key: CategoryKey
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    in_app: bool = True
    email: bool = False
    push: bool = True
    locked: bool = False
    push_delay_seconds: Delay = 60
    email_delay_seconds: Delay = 900


class CategoryUpdate(RequestBody):
    """Tenant defaults; ``locked: true`` stops users overriding them."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | UnsetType = UNSET
    in_app: bool | UnsetType = UNSET
    email: bool | UnsetType = UNSET
    push: bool | UnsetType = UNSET
    locked: bool | UnsetType = UNSET
    push_delay_seconds: Delay | UnsetType = UNSET
    email_delay_seconds: Delay | UnsetType = UNSET


class QuietHours(RequestBody):
    """Wall-clock times in the user's own time zone; may wrap midnight (``22:00`` to ``07:00``)."""

    start: Clock
    end: Clock


class ChannelChoice(RequestBody):
    category: CategoryKey
    channel: Channel
    enabled: bool


class PreferencesUpdate(RequestBody):
    muted: bool | UnsetType = UNSET
    quiet_hours: QuietHours | UnsetType | None = UNSET
    digest_minutes: Annotated[int, msgspec.Meta(ge=0, le=1440)] | UnsetType = UNSET
    channels: list[ChannelChoice] = msgspec.field(default_factory=list)


class CategoryChoices(ResponseBody):
    """Effective channels of one category for the caller (their overrides over the tenant defaults)."""

    category: str
    name: str
    locked: bool
    in_app: bool
    email: bool
    push: bool


class PreferencesResponse(ResponseBody):
    muted: bool
    digest_minutes: int
    timezone: str
    categories: list[CategoryChoices]
    quiet_hours: QuietHours | None = None


class PushKeys(RequestBody):
    p256dh: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
    auth: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class PushSubscriptionCreate(RequestBody):
    """A browser's ``PushSubscription.toJSON()``."""

    endpoint: Annotated[str, msgspec.Meta(min_length=1, max_length=2048)]
    keys: PushKeys
    expiration_time: float | None = msgspec.field(default=None, name="expirationTime")


class PushSubscriptionDelete(RequestBody):
    endpoint: Annotated[str, msgspec.Meta(min_length=1, max_length=2048)]


class PushSubscriptionCreated(ResponseBody):
    id: UUID


class VapidPublicKey(ResponseBody):
    public_key: str
