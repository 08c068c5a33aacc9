"""Assemble the Litestar application: routes, auth, errors, OpenAPI, logs and the runtime's lifespan."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from litestar import Litestar
from litestar.datastructures import State
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin

from api.attendance.controllers import ClockController, WorkplaceDayController
from api.auth.controllers import MfaController, PasswordController, SessionController
from api.auth.middleware import SessionAuthMiddleware
from api.chat.controllers import (
    ConversationController,
    HistoryController,
    MessageController,
    PresenceController,
    SearchController,
)
from api.chat.controllers.attachments import FileController
from api.chat.controllers.retention import RetentionController
from api.deps import dependencies
from api.errors import exception_handlers
from api.health import HealthController
from api.identity.controllers import (
    AuditController,
    DepartmentController,
    ProfileController,
    RoleController,
    TenantController,
    UserController,
)
from api.logs import RequestIdMiddleware, configure_logging
from api.metrics import HttpMetricsMiddleware, PrometheusHubObserver, instrument_pool, mark_process_gone, metrics
from api.moderation.controllers import CaseController, FlagController, ModerationAdminController, RuleController
from api.notifications.controllers import (
    CategoryController,
    DeliveryController,
    InboxController,
    PreferenceController,
    PushController,
    ServiceWorkerController,
    UnsubscribeController,
)
from api.realtime import build_hub, close_revoked_sockets
from api.runtime import Runtime
from api.settings import Settings, load_settings
from api.tasks.controllers import (
    ChecklistController,
    CommentController,
    DependencyController,
    TaskController,
    TimeController,
)
from api.web import WebController
from api.workplaces.controllers import AssignmentController, WorkplaceController
from channels.realtime import ChatRealtime
from delivery.live import install_inbox

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

ROUTE_HANDLERS = [
    HealthController,
    SessionController,
    MfaController,
    PasswordController,
    ProfileController,
    UserController,
    DepartmentController,
    RoleController,
    TenantController,
    AuditController,
    ConversationController,
    HistoryController,
    MessageController,
    SearchController,
    PresenceController,
    FileController,
    RetentionController,
    PreferenceController,
    UnsubscribeController,
    DeliveryController,
    InboxController,
    CategoryController,
    PushController,
    ServiceWorkerController,
    WorkplaceController,
    AssignmentController,
    ClockController,
    WorkplaceDayController,
    TaskController,
    DependencyController,
    ChecklistController,
    CommentController,
    TimeController,
    WebController,
    FlagController,
    CaseController,
    RuleController,
    ModerationAdminController,
]


def create_app(settings: Settings | None = None) -> Litestar:
    """Build the app for ``settings`` (default: from the environment).

    The settings must name a database and a Redis (``fieldhub serve`` starts embedded ones first).
    """
    settings = settings or load_settings()
    configure_logging(settings.log_level)

    # Nothing below connects yet: engines and clients open their connections on first use,
    # inside the lifespan's event loop.
    runtime = Runtime(settings=settings)
    instrument_pool(runtime.db.engine, name="app")
    hub, hub_redis = build_hub(settings, observer=PrometheusHubObserver())
    runtime.hub = hub
    runtime.session_listeners.append(close_revoked_sockets(hub))
    ChatRealtime(hub=hub, db=runtime.db, redis=runtime.redis).install()
    install_inbox(hub, runtime.db)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        try:
            async with hub:
                yield
        finally:
            await hub_redis.aclose()
            await runtime.close()
            mark_process_gone()

    auth = DefineMiddleware(
        SessionAuthMiddleware,
        exclude=["^/schema", "^/health", "^/static", "^/ws$", "^/$", "^/metrics$"],
        exclude_from_auth_key="exclude_from_auth",
    )
    return Litestar(
        route_handlers=[*ROUTE_HANDLERS, hub.route_handler("/ws"), metrics],
        dependencies=dependencies,
        # Metrics outermost: it sees the status of requests the auth middleware refuses.
        middleware=[HttpMetricsMiddleware, RequestIdMiddleware, auth],
        exception_handlers=exception_handlers,
        lifespan=[lifespan],
        openapi_config=OpenAPIConfig(
            title="fieldhub", version="1.0.0", path="/schema", render_plugins=[SwaggerRenderPlugin()]
        ),
        request_max_body_size=settings.max_request_body_bytes,
        state=State({"runtime": runtime, "hub": hub}),
        debug=False,
        # Logging is ours (api/logs.py): JSON lines at FIELDHUB_LOG_LEVEL, not Litestar's defaults.
        logging_config=None,
    )
