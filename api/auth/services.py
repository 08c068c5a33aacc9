"""Sign-in and session rules: passwords, lockout, second factor, tokens, resets and WebSocket tickets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from uuid import UUID

import msgspec
from sqlalchemy import ColumnElement, bindparam, func, literal, select, text, type_coerce, update
from sqlalchemy.dialects.postgresql import JSONB

from api.audit import Origin, record
from api.auth.passwords import verify_password
from api.auth.principal import AuthMethod, CurrentUser
from api.auth.second_factor import SecondFactorService
from api.errors import AppError
from persistence.models import (
    AuthChallenge,
    AuthSession,
    Role,
    User,
    UserRole,
)
from persistence.prepared import Prepared

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from api.runtime import Runtime
    from persistence.engine import Database

CHALLENGE_TTL = timedelta(minutes=5)
CHALLENGE_MAX_ATTEMPTS = 5
MAX_LOCK = timedelta(hours=1)
# last_seen_at is refreshed at most this often, so reads do not turn into writes.
SEEN_RESOLUTION = timedelta(minutes=1)
_NO_GRANTS = literal([], JSONB)


def _live_session_read(which: ColumnElement[bool]) -> Prepared:
    """A live session (``which`` names it by ``:which``, unexpired at ``:now``, not revoked, its user active)
    with its user and the user's grants aggregated beside them, as plain columns."""
    grants = type_coerce(
        select(func.coalesce(func.jsonb_agg(func.jsonb_build_array(Role.name, Role.permissions)), _NO_GRANTS))
        .select_from(Role)
        .join(UserRole, UserRole.role_id == Role.id)
        .where(UserRole.user_id == User.id)
        .scalar_subquery(),
        JSONB,
    )
    now = bindparam("now", type_=AuthSession.expires_at.type)
    return Prepared(
        select(
            AuthSession.id,
            AuthSession.expires_at,
            AuthSession.last_seen_at,
            User.id,
            User.email,
            User.name,
            grants,
        )
        .join(User, User.id == AuthSession.user_id)
        .where(which, AuthSession.revoked_at.is_(None), AuthSession.expires_at > now, User.status == "active")
    )


_SESSION_BY_TOKEN = _live_session_read(AuthSession.token_hash == bindparam("which"))
_SESSION_BY_ID = _live_session_read(AuthSession.id == bindparam("which"))
_SEEN = Prepared(
    update(AuthSession)
    .where(AuthSession.id == bindparam("session_id"))
    .values(last_seen_at=bindparam("now"), updated_at=bindparam("now"))
)


class IssuedSession(msgspec.Struct, frozen=True, kw_only=True):
    token: str
    session_id: UUID
    expires_at: datetime


class IssuedChallenge(msgspec.Struct, frozen=True, kw_only=True):
    challenge: str
    expires_at: datetime


class TicketHolder(msgspec.Struct, frozen=True, kw_only=True):
    """What a redeemed WebSocket ticket stands for."""

    tenant_id: UUID
    user_id: UUID
    session_id: UUID


async def find_login(db: Database, *, email: str, tenant_slug: str | None) -> list[tuple[UUID, UUID]]:
    """``(tenant_id, user_id)`` of every active tenant's account with this email (at most one per tenant).

    Sign-in knows no tenant yet, so this is the one lookup that crosses tenants, through a narrow
    security-definer function.
    """
    async with db.transaction() as session:
        rows = await session.execute(
            text("SELECT tenant_id, user_id FROM fieldhub_login_lookup(:email, :slug)"),
            {"email": email.strip().lower(), "slug": tenant_slug},
        )
        return [(tenant_id, user_id) for tenant_id, user_id in rows.all()]


def utcnow() -> datetime:
    return datetime.now(UTC)


def _invalid_credentials() -> AppError:
    return AppError("invalid_credentials", "Email or password is wrong.", status_code=401)


class AuthService:
    """Every auth rule in one place; controllers only translate HTTP.

    Methods that must keep a failure (a failed login counts towards the lockout even though the
    request fails) run their own transactions instead of the request's.
    """

    def __init__(self, *, runtime: Runtime) -> None:
        self._rt = runtime

    # -- sign in ------------------------------------------------------------------------------

    async def login(
        self, *, email: str, password: str, tenant_slug: str | None, origin: Origin
    ) -> IssuedSession | IssuedChallenge:
        """Check a password; return a session, or a challenge when the user has a second factor.

        Raises:
            AppError: ``invalid_credentials`` (401), ``account_locked`` (423, ``Retry-After``),
                ``tenant_required`` (409) when the email exists in several tenants and none was named.
        """
        rows = await find_login(self._rt.db, email=email, tenant_slug=tenant_slug)
        if len(rows) > 1:
            raise AppError("tenant_required", "This email belongs to several organisations; name one.", status_code=409)
        if not rows:
            await verify_password(None, password)
            raise _invalid_credentials()
        tenant_id, user_id = rows[0]
        async with self._rt.db.transaction(tenant_id=tenant_id) as session:
            user = await session.get_one(User, user_id, with_for_update=True)
            now = utcnow()
            failure = await self._check_password(session, user, password, origin, now)
            if failure is None:
                user.failed_logins = 0
                user.locked_until = None
                if await SecondFactorService(runtime=self._rt).enabled(session, user.id):
                    token, digest = self._rt.keys.issue(tenant_id)
                    expires = now + CHALLENGE_TTL
                    session.add(
                        AuthChallenge(tenant_id=tenant_id, user_id=user.id, token_hash=digest, expires_at=expires)
                    )
                    record(
                        session,
                        tenant_id=tenant_id,
                        action="auth.login.password",
                        actor_user_id=user.id,
                        origin=origin,
                        details={"mfa": "required"},
                    )
                    return IssuedChallenge(challenge=token, expires_at=expires)
                return await self._open_session(session, user, origin, method="password")
        # Raised after the block so the failure count and the audit event are committed.
        raise failure

    async def _check_password(
        self, session: AsyncSession, user: User, password: str, origin: Origin, now: datetime
    ) -> AppError | None:
        """``None`` when the account may sign in with ``password``, else the error to raise (already audited)."""
        if user.locked_until and user.locked_until > now:
            retry = int((user.locked_until - now).total_seconds()) + 1
            reason, error = (
                "locked",
                AppError(
                    "account_locked",
                    "Too many failed sign-ins; try again later.",
                    status_code=423,
                    details={"retry_after": retry},
                    headers={"Retry-After": str(retry)},
                ),
            )
        elif user.status != "active":
            await verify_password(None, password)
            reason, error = "disabled", _invalid_credentials()
        elif not await verify_password(user.password_hash, password):
            self._count_failure(user, now)
            reason, error = "password", _invalid_credentials()
        else:
            return None
        record(
            session,
            tenant_id=user.tenant_id,
            action="auth.login",
            actor_user_id=user.id,
            origin=origin,
            outcome="failure",
            details={"reason": reason},
        )
        return error

    def _count_failure(self, user: User, now: datetime) -> None:
        limit = self._rt.settings.login_max_failures
        user.failed_logins += 1
        if user.failed_logins >= limit:
            lock = timedelta(seconds=self._rt.settings.login_lock_seconds * 2 ** (user.failed_logins - limit))
            user.locked_until = now + min(lock, MAX_LOCK)

    async def complete_mfa(self, *, challenge: str, code: str, origin: Origin) -> IssuedSession:
        """Trade a login challenge and a TOTP or recovery code for a session.

        Raises:
            AppError: ``invalid_challenge`` (401) when unknown, used, expired or out of attempts;
                ``invalid_code`` (401) when the code is wrong or already used.
        """
        tenant_id = self._rt.keys.tenant_of(challenge)
        expired = AppError("invalid_challenge", "The sign-in step expired; sign in again.", status_code=401)
        if tenant_id is None:
            raise expired
        async with self._rt.db.transaction(tenant_id=tenant_id) as session:
            pending = await session.scalar(
                select(AuthChallenge)
                .where(AuthChallenge.token_hash == self._rt.keys.digest(challenge))
                .with_for_update()
            )
            now = utcnow()
            if (
                pending is None
                or pending.used_at is not None
                or pending.expires_at <= now
                or pending.attempts >= CHALLENGE_MAX_ATTEMPTS
            ):
                raise expired
            user = await session.get_one(User, pending.user_id)
            if await SecondFactorService(runtime=self._rt).accept(session, user.id, code):
                pending.used_at = now
                return await self._open_session(session, user, origin, method="mfa")
            pending.attempts += 1
            record(
                session,
                tenant_id=tenant_id,
                action="auth.mfa",
                actor_user_id=user.id,
                origin=origin,
                outcome="failure",
            )
        raise AppError("invalid_code", "That code is wrong or was already used.", status_code=401)

    async def _open_session(self, session: AsyncSession, user: User, origin: Origin, *, method: str) -> IssuedSession:
        token, digest = self._rt.keys.issue(user.tenant_id)
        now = utcnow()
        expires = now + timedelta(hours=self._rt.settings.session_ttl_hours)
        row = AuthSession(
            tenant_id=user.tenant_id,
            user_id=user.id,
            token_hash=digest,
            expires_at=expires,
            last_seen_at=now,
            ip=origin.ip,
            user_agent=origin.user_agent,
        )
        session.add(row)
        user.last_login_at = now
        await session.flush()
        record(
            session,
            tenant_id=user.tenant_id,
            action="auth.login",
            actor_user_id=user.id,
            origin=origin,
            target_type="session",
            target_id=row.id,
            details={"method": method},
        )
        return IssuedSession(token=token, session_id=row.id, expires_at=expires)

    # -- sessions -----------------------------------------------------------------------------

    async def resolve(self, token: str, *, via: AuthMethod) -> CurrentUser | None:
        """The user behind a live session token, or ``None`` (unknown, expired, revoked, user disabled).

        A token resolved lately is answered from ``runtime.principals`` (see ``api.auth.principal_cache``
        for how stale that may be).
        """
        tenant_id = self._rt.keys.tenant_of(token)
        if tenant_id is None:
            return None
        digest = self._rt.keys.digest(token)
        cached = self._rt.principals.get(digest)
        if cached is not None:
            return cached if cached.via == via else msgspec.structs.replace(cached, via=via)
        principals = self._rt.principals
        generation = principals.generation
        user = await self._live_session(tenant_id, _SESSION_BY_TOKEN, digest, via)
        if user is not None:
            principals.put(digest, user, generation=generation)
        return user

    async def resolve_session_id(self, tenant_id: UUID, session_id: UUID) -> CurrentUser | None:
        """The user of a live session known by id (a redeemed WebSocket ticket names one)."""
        return await self._live_session(tenant_id, _SESSION_BY_ID, session_id, "bearer")

    async def _live_session(
        self, tenant_id: UUID, statement: Prepared, which: bytes | UUID, via: AuthMethod
    ) -> CurrentUser | None:
        # Every request whose session is not cached comes through here (a phone's first request after a
        # pause): one prepared read of the session, the user and their grants, and at most once a minute
        # the session's last use.
        async with self._rt.db.transaction(tenant_id=tenant_id) as session:
            now = utcnow()
            row = await statement.first(session, which=which, now=now)
            if row is None:
                return None
            session_id, expires_at, last_seen_at, user_id, email, name, roles = row
            if last_seen_at is None or now - last_seen_at > SEEN_RESOLUTION:
                await _SEEN.fetch(session, session_id=session_id, now=now)
            return CurrentUser(
                id=user_id,
                tenant_id=tenant_id,
                session_id=session_id,
                email=email,
                name=name,
                roles=tuple(sorted(role for role, _ in roles)),
                permissions=frozenset(p for _, perms in roles for p in perms),
                via=via,
                expires_at=expires_at,
            )

    async def revoke_sessions(
        self, session: AsyncSession, *, user_id: UUID, only: UUID | None = None, keep: UUID | None = None
    ) -> list[UUID]:
        """Revoke the user's live sessions (just ``only`` if given, all but ``keep`` otherwise)."""
        statement = (
            update(AuthSession)
            .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
            .returning(AuthSession.id)
        )
        if only is not None:
            statement = statement.where(AuthSession.id == only)
        if keep is not None:
            statement = statement.where(AuthSession.id != keep)
        revoked = list((await session.scalars(statement)).all())
        # Forgotten now and again once announced: a request may cache one before the commit.
        self._rt.principals.forget_sessions(revoked)
        return revoked

    async def announce_revoked(self, session_ids: list[UUID]) -> None:
        """Tell every listener (the hub closes their sockets on every node) once the revocation committed."""
        self._rt.principals.forget_sessions(session_ids)
        if session_ids:
            for listener in self._rt.session_listeners:
                await listener(session_ids)

    # -- WebSocket tickets --------------------------------------------------------------------

    def _ticket_key(self, tenant_id: UUID, ticket: str) -> str:
        return f"t:{tenant_id}:wsticket:{self._rt.keys.digest(ticket).hex()}"

    async def issue_ws_ticket(self, user: CurrentUser) -> str:
        """A single-use ticket that opens one WebSocket within ``ws_ticket_ttl_seconds``."""
        ticket, _ = self._rt.keys.issue(user.tenant_id)
        holder = TicketHolder(tenant_id=user.tenant_id, user_id=user.id, session_id=user.session_id)
        await self._rt.redis.set(
            self._ticket_key(user.tenant_id, ticket),
            msgspec.json.encode(holder),
            ex=self._rt.settings.ws_ticket_ttl_seconds,
        )
        return ticket

    async def redeem_ws_ticket(self, ticket: str) -> TicketHolder | None:
        """Consume a ticket (atomically, so it opens one socket at most)."""
        tenant_id = self._rt.keys.tenant_of(ticket)
        if tenant_id is None:
            return None
        raw = await self._rt.redis.getdel(self._ticket_key(tenant_id, ticket))
        return msgspec.json.decode(raw, type=TicketHolder) if raw else None
