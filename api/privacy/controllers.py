"""Privacy over HTTP: one's own data export, an admin's exports and erasure of anyone, the tenant's privacy policy,
and the signed download link (the token is the credential, so that route needs no session)."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, get, post, put
from litestar.params import JSONBody, PathParameter
from litestar.response import Stream
from sqlalchemy import select

from api.audit import record
from api.auth.guards import requires
from api.auth.permissions import Permission
from api.auth.services import AuthService
from api.chat.uploads import FileStorageDep, file_storage
from api.deps import CallerDep, DbSession, OriginDep, RuntimeDep
from api.errors import AppError
from api.privacy.erasure import erase_user
from api.privacy.export import export_link, open_export, read_link, request_export
from api.privacy.policy import PrivacyPolicy, load_policy, save_policy
from api.privacy.schemas import ErasureResponse, ExportResponse
from api.runtime import Runtime
from persistence.models import PrivacyExport

UserId = Annotated[UUID, PathParameter(description="The person's user id.")]
Token = Annotated[str, PathParameter(max_length=512, description="The signed token of the download link.")]


def _response(runtime: Runtime, export: PrivacyExport) -> ExportResponse:
    token = export_link(runtime.settings.resolved_secret_key(), export)
    return ExportResponse(
        id=export.id,
        user_id=export.user_id,
        status=export.status,
        created_at=export.created_at,
        requested_by=export.requested_by,
        ready_at=export.ready_at,
        expires_at=export.expires_at,
        size=export.size,
        download_url=f"{runtime.settings.public_url}/api/v1/privacy/exports/{token}" if token else None,
    )


async def _exports_of(db_session: DbSession, runtime: Runtime, user_id: UUID) -> list[ExportResponse]:
    rows = await db_session.scalars(
        select(PrivacyExport).where(PrivacyExport.user_id == user_id).order_by(PrivacyExport.created_at.desc())
    )
    return [_response(runtime, export) for export in rows]


class MyDataController(Controller):
    """Any signed-in person's own data export (no permission: it is their data)."""

    path = "/api/v1/privacy/me/exports"
    tags = ["privacy"]

    @post("/", operation_id="RequestMyExport", status_code=202)
    async def request_mine(
        self, db_session: DbSession, runtime: RuntimeDep, current_user: CallerDep, origin: OriginDep
    ) -> ExportResponse:
        """Queue an export of all your personal data; poll the list for its ``download_url``.

        Errors: ``409 export_pending`` while one is being built.
        """
        export = await request_export(
            db_session, tenant_id=current_user.tenant_id, user_id=current_user.id, requested_by=current_user.id
        )
        record(
            db_session,
            tenant_id=current_user.tenant_id,
            action="privacy.export.requested",
            actor_user_id=current_user.id,
            origin=origin,
            target_type="user",
            target_id=current_user.id,
        )
        return _response(runtime, export)

    @get("/", operation_id="ListMyExports")
    async def list_mine(
        self, db_session: DbSession, runtime: RuntimeDep, current_user: CallerDep
    ) -> list[ExportResponse]:
        """Your exports, newest first."""
        return await _exports_of(db_session, runtime, current_user.id)


class PrivacyAdminController(Controller):
    """An administrator's privacy tools: anyone's export, erasure, and the tenant's privacy policy."""

    path = "/api/v1/privacy"
    tags = ["privacy"]
    guards = [requires(Permission.PRIVACY_MANAGE)]
    dependencies = {"file_storage": file_storage}

    @post("/users/{user_id:uuid}/exports", operation_id="RequestUserExport", status_code=202)
    async def request_for(
        self,
        user_id: UserId,
        db_session: DbSession,
        runtime: RuntimeDep,
        current_user: CallerDep,
        origin: OriginDep,
    ) -> ExportResponse:
        """Queue an export of a person's data. Errors: ``404 not_found``, ``409 export_pending``."""
        export = await request_export(
            db_session, tenant_id=current_user.tenant_id, user_id=user_id, requested_by=current_user.id
        )
        record(
            db_session,
            tenant_id=current_user.tenant_id,
            action="privacy.export.requested",
            actor_user_id=current_user.id,
            origin=origin,
            target_type="user",
            target_id=user_id,
        )
        return _response(runtime, export)

    @get("/users/{user_id:uuid}/exports", operation_id="ListUserExports")
    async def list_for(self, user_id: UserId, db_session: DbSession, runtime: RuntimeDep) -> list[ExportResponse]:
        """A person's exports, newest first."""
        return await _exports_of(db_session, runtime, user_id)

    @post("/users/{user_id:uuid}/erasure", operation_id="EraseUser", status_code=200)
    async def erase(
        self,
        user_id: UserId,
        db_session: DbSession,
        runtime: RuntimeDep,
        current_user: CallerDep,
        origin: OriginDep,
        file_storage: FileStorageDep,
    ) -> ErasureResponse:
        """Erase a person: personal data anonymised in every domain, sessions ended, files deleted, audit pseudonymised.

        Errors: ``404 not_found``, ``409 cannot_erase_self``, ``409 already_erased``, ``409 last_admin``.
        Nothing changes on an error.
        """
        auth = AuthService(runtime=runtime)
        report, keys = await erase_user(db_session, user_id, actor=current_user, origin=origin, auth=auth)
        await db_session.commit()
        await auth.announce_revoked(report.sessions_revoked)
        for key in keys:
            # A failure is left to the deletion job enqueued with the erasure.
            with contextlib.suppress(OSError):
                await file_storage.delete(key)
        return ErasureResponse(
            user_id=report.user_id,
            messages=report.messages,
            rows=report.rows,
            files_deleted=report.files_deleted,
            audit_entries=report.audit_entries,
            sessions_revoked=len(report.sessions_revoked),
        )

    @get("/policy", operation_id="GetPrivacyPolicy")
    async def get_policy(self, db_session: DbSession) -> PrivacyPolicy:
        """The tenant's privacy policy: message erasure, and days kept per domain (null: forever)."""
        return await load_policy(db_session)

    @put("/policy", operation_id="SetPrivacyPolicy")
    async def set_policy(
        self, data: JSONBody[PrivacyPolicy], db_session: DbSession, current_user: CallerDep, origin: OriginDep
    ) -> PrivacyPolicy:
        """Replace the tenant's privacy policy; retention applies at the next hourly sweep."""
        policy = await save_policy(db_session, tenant_id=current_user.tenant_id, policy=data, actor_id=current_user.id)
        record(
            db_session,
            tenant_id=current_user.tenant_id,
            action="privacy.policy.update",
            actor_user_id=current_user.id,
            origin=origin,
            details=msgspec.to_builtins(data),
        )
        return policy


class ExportDownloadController(Controller):
    path = "/api/v1/privacy/exports"
    tags = ["privacy"]
    dependencies = {"file_storage": file_storage}

    @get("/{token:str}", operation_id="DownloadExport", exclude_from_auth=True)
    async def download(self, token: Token, runtime: RuntimeDep, file_storage: FileStorageDep) -> Stream:
        """The export's zip. Errors: ``400 invalid_link``, ``410 link_expired``, ``404 not_found``."""
        link = read_link(runtime.settings.resolved_secret_key(), token, datetime.now(UTC))
        async with runtime.db.transaction(tenant_id=link.tenant_id) as session:
            export = await session.get(PrivacyExport, link.export_id)
        if export is None:
            raise AppError("not_found", "This export is no longer available.", status_code=404)
        chunks = await open_export(file_storage, export)
        name = f"fieldhub-data-{export.user_id}.zip"
        return Stream(
            chunks, media_type="application/zip", headers={"Content-Disposition": f'attachment; filename="{name}"'}
        )
