"""Approve from anywhere: the link in an email, a push or the inbox asks for confirmation on GET and decides
only on POST (mail scanners and link previews open links; they never post). The signed token is the
credential, so these endpoints need no session."""

from __future__ import annotations

import html
from typing import Annotated, Any

from litestar import Controller, MediaType, Request, Response, get, post
from litestar.params import PathParameter

from api.approvals.schemas import ActionResult
from api.approvals.services import flow
from api.approvals.services.links import LABELS, open_link, read_grant
from api.deps import OriginDep, RuntimeDep
from api.workplaces.base import utc_now
from persistence.models import ApprovalRequest, User

Token = Annotated[str, PathParameter(max_length=512, description="The signed token of the link.")]


class ActionController(Controller):
    path = "/api/v1/approvals/actions"
    tags = ["approvals"]

    @get("/{token:str}", operation_id="ApprovalActionPage", exclude_from_auth=True, media_type=MediaType.HTML)
    async def confirm_page(self, runtime: RuntimeDep, token: Token) -> str:
        """A page naming the request and the decision, with one button that posts it; opening it changes nothing.

        Errors: ``400 invalid_link`` (forged or altered), ``410 link_used``, ``410 link_expired``,
        ``409 request_closed``.
        """
        grant = read_grant(runtime.settings.resolved_secret_key(), token)
        async with runtime.db.transaction(tenant_id=grant.tenant_id) as session:
            link = await open_link(session, grant, utc_now(), use=False)
            request = await session.get_one(ApprovalRequest, link.request_id)
            requester = await session.get_one(User, request.requester_id)
        if request.status != "pending":
            raise flow.closed(request)
        label = LABELS[grant.decision]
        return (
            f"<!doctype html><html><body><h1>{label}?</h1>"
            f"<p><b>{html.escape(request.title)}</b>, requested by {html.escape(requester.name)}.</p>"
            f'<form method="post"><button>{label}</button></form>'
            "</body></html>"
        )

    @post("/{token:str}", operation_id="ApprovalAction", exclude_from_auth=True, status_code=200)
    async def act(
        self, request: Request[Any, Any, Any], runtime: RuntimeDep, origin: OriginDep, token: Token
    ) -> Response[Any]:
        """Decide as the link's user; the link (and every copy of it) is dead afterwards.

        Errors: ``400 invalid_link``, ``410 link_used``, ``410 link_expired``, and the decision's own:
        ``409 request_closed``, ``409 already_decided``, ``409 step_decided``, ``403 not_an_approver``.
        Nothing changes on an error. A browser (``Accept: text/html``) gets a page, others JSON.
        """
        grant = read_grant(runtime.settings.resolved_secret_key(), token)
        now = utc_now()
        async with runtime.db.transaction(tenant_id=grant.tenant_id) as session:
            link = await open_link(session, grant, now, use=True)
            decided = await flow.decide(
                session,
                request_id=link.request_id,
                actor_id=link.user_id,
                decision=grant.decision,
                origin=origin,
                now=now,
            )
            result = ActionResult(request_id=decided.id, decision=grant.decision, status=decided.status)
        if request.accept.best_match([MediaType.JSON, MediaType.HTML]) == MediaType.HTML:
            page = f"<!doctype html><html><body><h1>Done</h1><p>The request is now {html.escape(result.status)}.</p></body></html>"
            return Response(page, media_type=MediaType.HTML)
        return Response(result)
