"""Assemble the Litestar application: routes, auth, errors, OpenAPI, logs and the runtime's lifespan."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING
from uuid import UUID

from litestar import Litestar
from litestar.datastructures import State
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin

from api.approvals.controllers import ActionController, DelegationController, RequestController, WorkflowController
from api.approvals.services import install_action_links
from api.approvals.subjects_registry import register_domain_subjects
from api.assets.controllers import AssetController
from api.attendance.controllers import (
    ClockController,
    CorrectionController,
    PolicyController,
    TimesheetController,
    WorkplaceDayController,
)
from api.auth.controllers import MfaController, PasswordController, SessionController
from api.auth.middleware import SessionAuthMiddleware
from api.board.controllers import BoardController
from api.board.realtime import install_field_live
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
from api.holidays.controllers import HolidayController
from api.identity.controllers import (
    AuditController,
    DepartmentController,
    ProfileController,
    RoleController,
    TenantController,
    UserController,
)
from api.incidents.controllers import IncidentController
from api.leave.controllers import (
    LeaveBalanceController,
    LeaveCalendarController,
    LeaveRequestController,
    LeaveTypeController,
)
from api.logs import RequestIdMiddleware, configure_logging
from api.mail_relay.controllers import MailRelayController
from api.maintenance.controllers import MaintenanceCommentController, MaintenanceController, SlaController
from api.metrics import HttpMetricsMiddleware, PrometheusHubObserver, instrument_pool, mark_process_gone, metrics
from api.moderation.controllers import (
    CaseController,
    FlagController,
    ModerationAdminController,
    RuleController,
    SuspensionAppealController,
)
from api.notifications.controllers import (
    CategoryController,
    DeliveryController,
    InboxController,
    PreferenceController,
    PushController,
    ServiceWorkerController,
    UnsubscribeController,
)
from api.openapi import document_errors
from api.overtime.controllers import OvertimeController, OvertimeRulesController
from api.privacy.controllers import ExportDownloadController, MyDataController, PrivacyAdminController
from api.realtime import build_hub, close_revoked_sockets, share_identity_changes
from api.reports.controllers import ReportController
from api.runtime import Runtime
from api.settings import Settings, load_settings
from api.shifts.controllers import ShiftController
from api.tasks.controllers import (
    ChecklistController,
    CommentController,
    DependencyController,
    TaskController,
    TaskFileController,
    TemplateController,
    TimeController,
)
from api.tracing import tracing_for
from api.web import WebController
from api.workplaces.controllers import AssignmentController, WorkplaceController
from channels.moderation.screening import counted as blocked_sends_counted
from channels.realtime import ChatRealtime
from delivery.live import install_inbox
from hub import HubApp, freeze_startup_heap

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
    MailRelayController,
    AuditController,
    MyDataController,
    PrivacyAdminController,
    ExportDownloadController,
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
    CorrectionController,
    TimesheetController,
    PolicyController,
    ShiftController,
    HolidayController,
    OvertimeController,
    OvertimeRulesController,
    LeaveTypeController,
    LeaveRequestController,
    LeaveBalanceController,
    LeaveCalendarController,
    TaskController,
    DependencyController,
    ChecklistController,
    CommentController,
    TaskFileController,
    TimeController,
    TemplateController,
    BoardController,
    AssetController,
    IncidentController,
    MaintenanceController,
    MaintenanceCommentController,
    SlaController,
    WorkflowController,
    DelegationController,
    RequestController,
    ActionController,
    WebController,
    FlagController,
    CaseController,
    RuleController,
    ModerationAdminController,
    SuspensionAppealController,
    ReportController,
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
    if runtime.reads.replica is not None:
        instrument_pool(runtime.reads.replica.engine, name="replica")
    tracing = tracing_for(settings, "serve")  # None unless an OTLP endpoint is configured
    hub, hub_redis = build_hub(settings, observer=tracing.hub_observer() if tracing else PrometheusHubObserver())
    runtime.hub = hub
    runtime.session_listeners.append(close_revoked_sockets(hub))
    # A session revoked on any node is forgotten by this node's principal cache at once.
    hub.register_session_listener(lambda session_id: runtime.principals.forget_sessions([UUID(session_id)]))
    share_identity_changes(hub, runtime.principals)
    chat = ChatRealtime(hub=hub, db=runtime.db, redis=runtime.redis, on_stored=runtime.recent_writes.mark)
    chat.install()
    runtime.chat_sends = chat.sends
    install_inbox(hub, runtime.db)
    install_action_links(runtime.db, runtime.settings.resolved_secret_key())
    register_domain_subjects()
    install_field_live(hub, runtime.db)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        try:
            async with hub:
                freeze_startup_heap()
                yield
        finally:
            await hub_redis.aclose()
            await chat.sends.drained()  # sends already accepted are answered before the pool closes
            await blocked_sends_counted()  # moderation counts blocked sends after their rollback
            await runtime.close()
            mark_process_gone()

    auth = DefineMiddleware(
        SessionAuthMiddleware,
        exclude=["^/schema", "^/health", "^/static", "^/ws$", "^/$", "^/metrics$"],
        exclude_from_auth_key="exclude_from_auth",
    )
    app = HubApp(
        route_handlers=[*ROUTE_HANDLERS, hub.route_handler("/ws"), metrics],
        dependencies=dependencies,
        # Metrics outermost: it sees the status of requests the auth middleware refuses.
        middleware=[HttpMetricsMiddleware, RequestIdMiddleware, auth],
        exception_handlers=exception_handlers,
        lifespan=[lifespan] if tracing is None else [tracing.lifespan, lifespan],
        plugins=[] if tracing is None else [tracing.http_plugin()],
        openapi_config=OpenAPIConfig(
            title="fieldhub",
            version="1.0.0",
            path="/schema",
            render_plugins=[SwaggerRenderPlugin()],
            use_handler_docstrings=True,
        ),
        request_max_body_size=settings.max_request_body_bytes,
        state=State({"runtime": runtime, "hub": hub}),
        debug=False,
        # Logging is ours (api/logs.py): JSON lines at FIELDHUB_LOG_LEVEL, not Litestar's defaults.
        logging_config=None,
    )
    document_errors(app)
    return app
