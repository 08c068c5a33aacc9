"""Delegations: hand one's approvals to someone for a time range, list them, revoke one."""

from __future__ import annotations

from litestar import Controller, delete, get, post
from litestar.params import JSONBody

from api.approvals import deps
from api.approvals.deps import DelegationId, DelegationsDep
from api.approvals.schemas import DelegationCreate, DelegationResponse, delegation_response
from api.auth.guards import requires
from api.auth.permissions import Permission
from api.deps import CallerDep, Limit, Offset, OriginDep
from api.schemas import Page


class DelegationController(Controller):
    path = "/api/v1/approvals/delegations"
    tags = ["approvals"]
    dependencies = {"delegations": deps.delegations}
    guards = [requires(Permission.APPROVALS_USE)]

    @get("/", operation_id="ListApprovalDelegations")
    async def list_delegations(
        self, delegations: DelegationsDep, current_user: CallerDep, limit: Limit = 50, offset: Offset = 0
    ) -> Page[DelegationResponse]:
        """Delegations the caller gave or received, latest start first."""
        rows, total = await delegations.mine(current_user.id, limit=limit, offset=offset)
        return Page(items=[delegation_response(d) for d in rows], total=total, limit=limit, offset=offset)

    @post("/", operation_id="CreateApprovalDelegation", status_code=201)
    async def delegate(
        self, data: JSONBody[DelegationCreate], delegations: DelegationsDep, current_user: CallerDep, origin: OriginDep
    ) -> DelegationResponse:
        """Hand the caller's approvals to another user from ``starts_at`` until ``ends_at``; what the delegate
        decides is recorded on the caller's behalf.

        Errors: ``422 self_delegation``, ``409 delegation_loop`` (the delegate hands approvals back to the
        caller, directly or through others, over part of the range), ``422 invalid_range``,
        ``422 naive_datetime``, ``404 not_found`` for a delegate not an active user of the tenant.
        """
        return delegation_response(await delegations.delegate(data, actor=current_user, origin=origin))

    @delete("/{delegation_id:uuid}", operation_id="RevokeApprovalDelegation", status_code=204)
    async def revoke(
        self, delegation_id: DelegationId, delegations: DelegationsDep, current_user: CallerDep, origin: OriginDep
    ) -> None:
        """End a delegation now (its delegator or ``approvals:manage``; ``404 not_found`` otherwise)."""
        await delegations.revoke(
            delegation_id,
            actor=current_user,
            may_manage=current_user.can(Permission.APPROVALS_MANAGE),
            origin=origin,
        )
