"""Providers of the notification services (one per request, on the request's transaction) and shared parameters."""

from __future__ import annotations

from typing import Annotated

from litestar.di import NamedDependency, Provide
from litestar.params import Parameter

from api.deps import DbSession
from api.notifications.services import CategoryService, NotificationService, PreferenceService

Limit = Annotated[int, Parameter(ge=1, le=200, description="Items per page (1 to 200).")]
Offset = Annotated[int, Parameter(ge=0, description="Items to skip from the start of the list.")]


def provide_notifications(db_session: DbSession) -> NotificationService:
    return NotificationService(session=db_session)


def provide_categories(db_session: DbSession) -> CategoryService:
    return CategoryService(session=db_session)


def provide_preferences(db_session: DbSession) -> PreferenceService:
    return PreferenceService(session=db_session)


notifications = Provide(provide_notifications, sync_to_thread=False)
categories = Provide(provide_categories, sync_to_thread=False)
preferences = Provide(provide_preferences, sync_to_thread=False)

NotificationsDep = NamedDependency[NotificationService]
"""The request's notification service (``notifications`` parameter)."""
CategoriesDep = NamedDependency[CategoryService]
"""The request's category service (``categories`` parameter)."""
PreferencesDep = NamedDependency[PreferenceService]
"""The request's preference service (``preferences`` parameter)."""
