"""One-click unsubscribe (RFC 8058): a signed link that confirms on GET and unsubscribes only on POST."""

from __future__ import annotations

import html
from typing import Annotated

from litestar import Controller, MediaType, Response, get, post
from litestar.params import QueryParameter

from api.deps import RuntimeDep
from api.errors import AppError
from delivery.unsubscribe import UnsubscribeTarget, verify_unsubscribe
from delivery.unsubscribing import unsubscribe_email

Token = Annotated[str, QueryParameter(max_length=512, description="The signed token from the email.")]


def _target(runtime: RuntimeDep, token: str) -> UnsubscribeTarget:
    target = verify_unsubscribe(runtime.settings.resolved_secret_key(), token)
    if target is None:
        raise AppError("invalid_token", "This unsubscribe link is not valid.", status_code=400)
    return target


class UnsubscribeController(Controller):
    path = "/api/v1/notifications/unsubscribe"
    tags = ["notification preferences"]

    @get("/", operation_id="UnsubscribePage", exclude_from_auth=True, media_type=MediaType.HTML)
    async def confirm_page(self, runtime: RuntimeDep, token: Token) -> str:
        """A page with a button; opening the link (mail scanners do) changes nothing."""
        target = _target(runtime, token)
        return (
            "<!doctype html><html><body><h1>Unsubscribe</h1>"
            f"<p>Stop emails about <b>{html.escape(target.category)}</b>?</p>"
            f'<form method="post" action="?token={html.escape(token)}"><button>Unsubscribe</button></form>'
            "</body></html>"
        )

    @post("/", operation_id="Unsubscribe", exclude_from_auth=True, status_code=200)
    async def unsubscribe(self, runtime: RuntimeDep, token: Token) -> Response[dict[str, str]]:
        """Turn off email for the link's category (``400 invalid_token`` for a forged or altered link)."""
        target = _target(runtime, token)
        async with runtime.db.transaction(tenant_id=target.tenant_id) as session:
            await unsubscribe_email(session, target)
        return Response({"status": "unsubscribed", "category": target.category})
