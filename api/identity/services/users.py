"""People of the caller's tenant: who may be created or changed, and who may grant them which roles."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any
from uuid import UUID

import msgspec
from advanced_alchemy.filters import OrderBy
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import delete, func, select

from api.audit import Origin, record
from api.auth.passwords import check_policy
from api.auth.principal import CurrentUser
from api.errors import AppError
from api.identity.schemas import ProfileUpdate, UserCreate, UserUpdate
from api.identity.services._base import (
    IdentityService,
    changes,
    check_grantable,
    check_timezone,
    database_errors,
    equal_to,
    matching,
    require_visible,
)
from api.provisioning import create_user
from persistence.models import Department, Role, User, UserRole

ADMIN_ROLE = "admin"
"""The built-in role a tenant must always have an active holder of."""

if TYPE_CHECKING:
    from api.auth.services import AuthService


class UserService(IdentityService[User]):
    """People of the caller's tenant: profiles, status and the roles they hold."""

    class Repo(SQLAlchemyAsyncRepository[User]):
        model_type = User

    repository_type = Repo

    async def page(
        self,
        *,
        limit: int,
        offset: int,
        department_id: UUID | None = None,
        role: str | None = None,
        status: str | None = None,
        search: str | None = None,
    ) -> tuple[Sequence[User], int]:
        """One page of users by name; ``search`` matches name or email, case-insensitively."""
        filters: list[Any] = equal_to(department_id=department_id, status=status)
        if role is not None:
            holders = select(UserRole.user_id).join(Role, Role.id == UserRole.role_id).where(Role.name == role)
            filters.append(User.id.in_(holders))
        filters += matching(search, {"name", "email"})
        return await self.page_of(filters, limit=limit, offset=offset, order=[OrderBy("name"), OrderBy("id")])

    async def _roles_named(self, names: Iterable[str]) -> list[Role]:
        wanted = set(names)
        roles = list((await self.session.scalars(select(Role).where(Role.name.in_(wanted)))).all())
        unknown = sorted(wanted - {r.name for r in roles})
        if unknown:
            raise AppError("unknown_role", "Some roles do not exist.", status_code=422, details={"unknown": unknown})
        return roles

    async def _check_unique_email(self, email: str) -> None:
        if await self.exists(email=email):
            raise AppError("conflict", "A user with this email exists.", status_code=409, details={"field": "email"})

    async def create_user(self, data: UserCreate, *, actor: CurrentUser, origin: Origin) -> User:
        """Add a user with profile, roles and (optionally) a first password.

        Raises:
            AppError: ``invalid_timezone`` / ``weak_password`` / ``unknown_role`` (422), ``conflict`` (409)
                for a taken email, ``invalid_reference`` (400), ``forbidden`` (403) for a role above the caller.
        """
        check_timezone(data.timezone)
        if data.password is not None:
            check_policy(data.password)
        email = data.email.strip().lower()
        await self._check_unique_email(email)
        await require_visible(self.session, Department, data.department_id, "department_id")
        await require_visible(self.session, User, data.manager_id, "manager_id")
        roles = await self._roles_named(data.roles)
        check_grantable(actor, (p for r in roles for p in r.permissions))
        with database_errors():
            user = await create_user(
                self.session,
                tenant_id=actor.tenant_id,
                email=email,
                name=data.name,
                password=data.password,
                roles=[r.name for r in roles],
                department_id=data.department_id,
            )
            user.phone = data.phone
            user.timezone = data.timezone
            user.locale = data.locale
            user.manager_id = data.manager_id
            await self.session.flush()
        await self.session.refresh(user, attribute_names=["roles"])
        sent = [k for k, v in msgspec.structs.asdict(data).items() if v is not None and k != "password"]
        record(
            self.session,
            tenant_id=actor.tenant_id,
            action="user.create",
            actor_user_id=actor.id,
            origin=origin,
            target_type="user",
            target_id=user.id,
            details={
                "fields": sorted(sent),
                "roles": sorted(r.name for r in roles),
                "password_set": bool(data.password),
            },
        )
        return user

    async def _apply(self, user: User, fields: dict[str, Any]) -> list[str]:
        """Set profile ``fields`` on ``user`` after checking them; return the names that changed."""
        if "timezone" in fields:
            check_timezone(fields["timezone"])
        if "email" in fields:
            fields["email"] = fields["email"].strip().lower()
            if fields["email"] != user.email:
                await self._check_unique_email(fields["email"])
        if "department_id" in fields and fields["department_id"] != user.department_id:
            await require_visible(self.session, Department, fields["department_id"], "department_id")
        if "manager_id" in fields and fields["manager_id"] != user.manager_id:
            if fields["manager_id"] == user.id:
                raise AppError("invalid_manager", "A user cannot be their own manager.", status_code=422)
            await require_visible(self.session, User, fields["manager_id"], "manager_id")
        changed = sorted(k for k, v in fields.items() if getattr(user, k) != v)
        for name in changed:
            setattr(user, name, fields[name])
        with database_errors():
            await self.session.flush()
        return changed

    async def _keep_an_admin(self, leaving: User) -> None:
        """Refuse a change that would leave the tenant without an active admin (``last_admin``, 409).

        The admin role's row is locked first, so two admins demoting each other at once cannot both
        succeed and lock everyone out.
        """
        admin_role = await self.session.scalar(
            select(Role).where(Role.name == ADMIN_ROLE, Role.is_builtin.is_(True)).with_for_update()
        )
        if admin_role is None:
            return
        others = await self.session.scalar(
            select(func.count())
            .select_from(UserRole)
            .join(User, User.id == UserRole.user_id)
            .where(UserRole.role_id == admin_role.id, User.id != leaving.id, User.status == "active")
        )
        if not others:
            raise AppError(
                "last_admin",
                "The organisation needs at least one active admin; make someone else admin first.",
                status_code=409,
            )

    async def update_user(
        self, user_id: UUID, data: UserUpdate, *, actor: CurrentUser, origin: Origin, auth: AuthService
    ) -> tuple[User, list[UUID]]:
        """Change a user's profile or status; disabling revokes every session of theirs.

        Returns:
            The user, and the ids of sessions revoked: announce them with
            ``AuthService.announce_revoked`` once the transaction committed (not before).

        Raises:
            AppError: as :meth:`create_user`; ``cannot_disable_self`` and ``last_admin`` (409).
        """
        user = await self.get_for_update(user_id)
        fields = changes(data)
        if fields.get("status") == "disabled" and user.id == actor.id:
            raise AppError("cannot_disable_self", "You cannot disable your own account.", status_code=409)
        if fields.get("status") == "disabled" and user.status == "active":
            await self._keep_an_admin(user)
        changed = await self._apply(user, fields)
        revoked: list[UUID] = []
        details: dict[str, Any] = {"fields": changed}
        if "status" in changed and user.status == "disabled":
            revoked = await auth.revoke_sessions(self.session, user_id=user.id)
            details["sessions_revoked"] = len(revoked)
        if changed:
            record(
                self.session,
                tenant_id=actor.tenant_id,
                action="user.update",
                actor_user_id=actor.id,
                origin=origin,
                target_type="user",
                target_id=user.id,
                details=details,
            )
        return user, revoked

    async def update_profile(self, data: ProfileUpdate, *, actor: CurrentUser, origin: Origin) -> User:
        """Change the caller's own profile (name, phone, time zone, locale, avatar)."""
        user = await self.get_for_update(actor.id)
        changed = await self._apply(user, changes(data))
        if changed:
            record(
                self.session,
                tenant_id=actor.tenant_id,
                action="user.profile.update",
                actor_user_id=actor.id,
                origin=origin,
                target_type="user",
                target_id=user.id,
                details={"fields": changed},
            )
        return user

    async def set_roles(self, user_id: UUID, names: list[str], *, actor: CurrentUser, origin: Origin) -> User:
        """Make ``names`` exactly the roles ``user_id`` holds.

        The caller must hold every permission of each role added or taken away, so nobody raises
        anyone (themselves included) above their own rights.

        Raises:
            AppError: ``unknown_role`` (422), ``forbidden`` (403), ``last_admin`` (409).
        """
        user = await self.get_for_update(user_id)
        wanted = {r.id: r for r in await self._roles_named(names)}
        held = {r.id: r for r in user.roles}
        added = [wanted[i] for i in wanted.keys() - held.keys()]
        removed = [held[i] for i in held.keys() - wanted.keys()]
        check_grantable(actor, (p for r in (*added, *removed) for p in r.permissions))
        if any(r.name == ADMIN_ROLE and r.is_builtin for r in removed) and user.status == "active":
            await self._keep_an_admin(user)
        if removed:
            await self.session.execute(
                delete(UserRole).where(UserRole.user_id == user.id, UserRole.role_id.in_([r.id for r in removed]))
            )
        self.session.add_all(UserRole(tenant_id=user.tenant_id, user_id=user.id, role_id=r.id) for r in added)
        await self.session.flush()
        await self.session.refresh(user, attribute_names=["roles"])
        if added or removed:
            record(
                self.session,
                tenant_id=actor.tenant_id,
                action="user.roles.set",
                actor_user_id=actor.id,
                origin=origin,
                target_type="user",
                target_id=user.id,
                details={"added": sorted(r.name for r in added), "removed": sorted(r.name for r in removed)},
            )
        return user
