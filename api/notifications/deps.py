"""Providers of the notification services (one per request, on the request's transaction) and shared parameters."""

from __future__ import annotations

from litestar.di import NamedDependency

from api.deps import Limit, Offset, per_request
from api.notifications.services import CategoryService, NotificationService, PreferenceService

__all__ = [
    "CategoriesDep",
    "Limit",
    "NotificationsDep",
    "Offset",
    "PreferencesDep",
    "categories",
    "notifications",
    "preferences",
]

notifications = per_request(NotificationService)
categories = per_request(CategoryService)
preferences = per_request(PreferenceService)

NotificationsDep = NamedDependency[NotificationService]
"""The request's notification service (``notifications`` parameter)."""
CategoriesDep = NamedDependency[CategoryService]
"""The request's category service (``categories`` parameter)."""
PreferencesDep = NamedDependency[PreferenceService]
"""The request's preference service (``preferences`` parameter)."""
