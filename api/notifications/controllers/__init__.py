"""The notification controllers, one file per resource."""

from api.notifications.controllers.categories import CategoryController
from api.notifications.controllers.deliveries import DeliveryController
from api.notifications.controllers.inbox import InboxController
from api.notifications.controllers.preferences import PreferenceController
from api.notifications.controllers.push import PushController, ServiceWorkerController
from api.notifications.controllers.unsubscribe import UnsubscribeController

__all__ = [
    "CategoryController",
    "DeliveryController",
    "InboxController",
    "PreferenceController",
    "PushController",
    "ServiceWorkerController",
    "UnsubscribeController",
]
