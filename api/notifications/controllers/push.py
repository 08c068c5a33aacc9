"""Web Push: the VAPID public key, subscribe and unsubscribe, and the service worker at ``/sw.js``."""

from __future__ import annotations

import importlib.resources
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import JSONBody

from api.deps import CallerDep, DbSession, RuntimeDep
from api.notifications.schemas import (
    PushSubscriptionCreate,
    PushSubscriptionCreated,
    PushSubscriptionDelete,
    VapidPublicKey,
)
from api.notifications.services import delivery_errors
from delivery.push import SubscriptionInfo
from delivery.subscriptions import forget_subscription, save_subscription
from delivery.vapid import load_vapid, public_key_of

_SERVICE_WORKER = (importlib.resources.files("delivery") / "static" / "sw.js").read_bytes()


class PushController(Controller):
    path = "/api/v1/push"
    tags = ["web push"]

    @get("/vapid-public-key", operation_id="VapidPublicKey")
    async def vapid_public_key(self, runtime: RuntimeDep, db_session: DbSession) -> VapidPublicKey:
        """The ``applicationServerKey`` for ``pushManager.subscribe`` (base64url); it never changes."""
        settings = runtime.settings
        vapid = await load_vapid(
            db_session,
            secret=settings.resolved_secret_key(),
            configured_private_key=settings.vapid_private_key,
            encryption_key=settings.encryption_key,
        )
        return VapidPublicKey(public_key=public_key_of(vapid))

    @post("/subscriptions", operation_id="SubscribePush", status_code=201)
    async def subscribe(
        self,
        data: JSONBody[PushSubscriptionCreate],
        db_session: DbSession,
        current_user: CallerDep,
        request: Request[Any, Any, Any],
    ) -> PushSubscriptionCreated:
        """Keep this browser's subscription (``422 invalid_subscription`` for a malformed one)."""
        info = msgspec.convert(msgspec.to_builtins(data), SubscriptionInfo)
        with delivery_errors():
            subscription_id = await save_subscription(
                db_session,
                tenant_id=current_user.tenant_id,
                user_id=current_user.id,
                info=info,
                user_agent=request.headers.get("user-agent"),
            )
        return PushSubscriptionCreated(id=subscription_id)

    @post("/subscriptions/delete", operation_id="UnsubscribePush", status_code=204)
    async def unsubscribe(
        self, data: JSONBody[PushSubscriptionDelete], db_session: DbSession, current_user: CallerDep
    ) -> None:
        """Forget this browser's subscription (nothing happens for an unknown endpoint)."""
        await forget_subscription(db_session, user_id=current_user.id, endpoint=data.endpoint)


class ServiceWorkerController(Controller):
    path = "/sw.js"
    tags = ["web push"]

    @get("/", operation_id="ServiceWorker", exclude_from_auth=True, include_in_schema=False)
    async def service_worker(self) -> Response[bytes]:
        """The service worker that shows pushes and opens their link; served from the root so its scope is ``/``."""
        return Response(
            _SERVICE_WORKER,
            media_type="application/javascript",
            headers={"Service-Worker-Allowed": "/", "Cache-Control": "no-cache"},
        )
