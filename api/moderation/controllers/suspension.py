"""Appealing a suspension: a suspended user cannot sign in, so they appeal with their email and
password instead of a session, under the same lockout as signing in."""

from __future__ import annotations

from typing import Any

from litestar import Controller, post
from litestar.params import JSONBody
from sqlalchemy import select

from api.audit import record
from api.auth.passwords import verify_password
from api.auth.services import AuthService, find_login, utcnow
from api.deps import OriginDep, RuntimeDep
from api.errors import AppError
from api.moderation.schemas import SuspensionAppeal
from channels.effects import Effects
from channels.moderation.appeals import appeal
from channels.moderation.cases import ModerationContext
from channels.moderation.views import AppealView
from persistence.models import ModerationAction, User


def _wrong() -> AppError:
    return AppError("invalid_credentials", "Email or password is wrong.", status_code=401)


class SuspensionAppealController(Controller):
    path = "/api/v1/moderation/suspension-appeals"
    tags = ["moderation"]

    @post("/", operation_id="AppealSuspension", exclude_from_auth=True, status_code=201)
    async def appeal_suspension(
        self, data: JSONBody[SuspensionAppeal], runtime: RuntimeDep, origin: OriginDep
    ) -> AppealView:
        """Appeal one's own suspension, once: 401 ``invalid_credentials`` for a wrong email or
        password (counted towards the account's lockout, 423 ``account_locked`` while locked), 404
        ``not_found`` when the account is not suspended, 409 ``already_appealed`` the second time.
        The appeal goes to the queue for a moderator other than the one who suspended."""
        rows = await find_login(runtime.db, email=data.email, tenant_slug=data.tenant)
        if len(rows) != 1:
            await verify_password(None, data.password)
            raise _wrong()
        tenant_id, user_id = rows[0]
        failure: AppError | None = None
        effects = Effects()
        async with runtime.db.transaction(tenant_id=tenant_id) as session:
            user = await session.get_one(User, user_id, with_for_update=True)
            now = utcnow()
            if user.locked_until and user.locked_until > now:
                failure = AppError("account_locked", "Too many failed attempts; try again later.", status_code=423)
            elif not await verify_password(user.password_hash, data.password):
                # The sign-in's own counter, so guessing here locks the account as guessing there does.
                AuthService(runtime=runtime)._count_failure(user, now)
                failure = _wrong()
            if failure is not None:
                record(
                    session,
                    tenant_id=tenant_id,
                    action="moderation.appeal",
                    actor_user_id=user.id,
                    origin=origin,
                    outcome="failure",
                    details={"reason": failure.code},
                )
            else:
                suspension = await session.scalar(
                    select(ModerationAction)
                    .where(ModerationAction.target_user_id == user.id, ModerationAction.kind == "suspend")
                    .order_by(ModerationAction.created_at.desc())
                    .limit(1)
                )
                if user.status == "active" or suspension is None:
                    raise AppError("not_found", "This account is not suspended.", status_code=404)
                user.failed_logins = 0

                def audit(action: str, *, target_type: str, target_id: Any, details: dict[str, Any]) -> None:
                    record(
                        session,
                        tenant_id=tenant_id,
                        action=action,
                        actor_user_id=user_id,
                        origin=origin,
                        target_type=target_type,
                        target_id=target_id,
                        details=details,
                    )

                ctx = ModerationContext(
                    session=session, tenant_id=tenant_id, actor_id=user_id, effects=effects, audit=audit
                )
                made = await appeal(ctx, suspension.id, data.statement)
        # Raised after the block so the failure count and its audit record are committed.
        if failure is not None:
            raise failure
        if runtime.hub is not None:
            await effects.apply(runtime.hub)
        return made
