"""A person's data export: requested over HTTP, built by the worker into a zip, fetched through a signed, expiring link.

The zip holds one ``<domain>.json`` per domain of the registry (:mod:`api.privacy.registry`):
``{"<table>": [rows]}`` with only the rows that are the person's, secrets and hashes left out,
then ``files/<id>-<name>`` for each file they uploaded, and ``manifest.json``. The archive is
written in a temporary file by worker threads (never on the event loop), then stored with the
other files under ``<tenant>/exports/<export id>``.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, Final
from uuid import UUID

import anyio
import anyio.to_thread
import msgspec
from sqlalchemy import LargeBinary, select, text

from api.errors import AppError
from api.privacy.registry import PersonalData, declared
from channels.storage import FileMissingError
from delivery.signing import sign, verify
from persistence.base import metadata
from persistence.jobs import enqueue
from persistence.models import PrivacyExport, User

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from sqlalchemy.ext.asyncio import AsyncSession

    from channels.storage import FileStorage
    from persistence.engine import Database

EXPORT_JOB: Final = "privacy.export"
EXPORT_TTL: Final = timedelta(days=7)
LINK_CONTEXT: Final = b"fieldhub-privacy-export:"
CHUNK: Final = 64 * 1024


class ExportLink(msgspec.Struct, frozen=True, array_like=True):
    """What a download link carries: whose export, and until when (seconds since the epoch)."""

    tenant_id: UUID
    export_id: UUID
    expires: int


def export_link(secret: str, export: PrivacyExport) -> str | None:
    """The download token of a ready export (``None`` until it is ready)."""
    if export.status != "ready" or export.expires_at is None:
        return None
    return sign(secret, LINK_CONTEXT, ExportLink(export.tenant_id, export.id, int(export.expires_at.timestamp())))


def read_link(secret: str, token: str, now: datetime) -> ExportLink:
    """The export a token names.

    Raises:
        AppError: ``invalid_link`` (400) when forged or altered; ``link_expired`` (410) past its time.
    """
    link = verify(secret, LINK_CONTEXT, token, ExportLink)
    if link is None:
        raise AppError("invalid_link", "This download link is not valid.")
    if link.expires <= now.timestamp():
        raise AppError("link_expired", "This download link has expired; request a new export.", status_code=410)
    return link


async def request_export(session: AsyncSession, *, tenant_id: UUID, user_id: UUID, requested_by: UUID) -> PrivacyExport:
    """Queue an export of ``user_id``'s data (built by the worker), in the caller's transaction.

    Raises:
        AppError: ``not_found`` (404) for a user not of this tenant; ``export_pending`` (409) while
            one is still being built.
    """
    if await session.scalar(select(User.id).where(User.id == user_id)) is None:
        raise AppError("not_found", "No user with this id.", status_code=404)
    pending = select(PrivacyExport.id).where(PrivacyExport.user_id == user_id, PrivacyExport.status == "queued")
    if await session.scalar(pending) is not None:
        raise AppError("export_pending", "An export of this person's data is being built already.", status_code=409)
    export = PrivacyExport(tenant_id=tenant_id, user_id=user_id, requested_by=requested_by, status="queued")
    session.add(export)
    await session.flush()
    await enqueue(session, tenant_id=tenant_id, kind=EXPORT_JOB, payload={"export_id": str(export.id)})
    return export


async def build_export(*, db: Database, storage: FileStorage, tenant_id: UUID, export_id: UUID) -> None:
    """Build the zip of a queued export and mark it ready (the worker's job). A retry starts over."""
    async with db.transaction(tenant_id=tenant_id) as session:
        export = await session.get(PrivacyExport, export_id)
        if export is None or export.status != "queued":
            return
        user = await session.get_one(User, export.user_id)
        params = {"user_id": user.id, "email": user.email}
        domains, files = await _collect(session, params)
    now = datetime.now(UTC)
    manifest = {"user_id": str(user.id), "generated_at": now.isoformat(), "domains": sorted(domains), "files": []}
    key = f"{tenant_id}/exports/{export_id}"
    path = await anyio.to_thread.run_sync(_temporary_file)
    try:
        await _write_zip(path, storage, domains, files, manifest)
        size = await storage.save(key, _read_file(path))
    finally:
        await anyio.to_thread.run_sync(os.unlink, path)
    async with db.transaction(tenant_id=tenant_id) as session:
        export = await session.get_one(PrivacyExport, export_id)
        export.status, export.storage_key, export.size = "ready", key, size
        export.ready_at, export.expires_at = now, now + EXPORT_TTL


async def open_export(storage: FileStorage, export: PrivacyExport) -> AsyncIterator[bytes]:
    """The zip's bytes.

    Raises:
        AppError: ``not_found`` (404) when the export is not ready or its file is gone.
    """
    if export.status != "ready" or export.storage_key is None:
        raise AppError("not_found", "This export is not ready.", status_code=404)
    try:
        return await storage.open(export.storage_key)
    except FileMissingError:
        raise AppError("not_found", "This export is no longer available.", status_code=404) from None


async def _collect(
    session: AsyncSession, params: dict[str, Any]
) -> tuple[dict[str, dict[str, list[dict[str, Any]]]], list[tuple[str, str]]]:
    """The person's rows by domain and table, and ``(archive name, storage key)`` of their files."""
    domains: dict[str, dict[str, list[dict[str, Any]]]] = {}
    files: list[tuple[str, str]] = []
    for declaration in declared():
        if not declaration.exported:
            continue
        table = metadata.tables[declaration.table]
        columns = [column for column in table.columns if _exported_column(declaration, column.name)]
        rows = [
            dict(row)
            for row in (await session.execute(select(*columns).where(text(declaration.owned())), params)).mappings()
        ]
        domains.setdefault(declaration.domain, {}).setdefault(declaration.table, []).extend(rows)
        if declaration.files and rows:
            located = select(table.c.id, table.c[declaration.files]).where(text(declaration.owned()))
            for row_id, key in await session.execute(located, params):
                if key:
                    named = next((r.get("filename") for r in rows if r["id"] == row_id), None)
                    files.append((f"files/{row_id}" + (f"-{named}" if named else ""), key))
    return domains, files


def _exported_column(declaration: PersonalData, name: str) -> bool:
    column = metadata.tables[declaration.table].columns[name]
    return name not in declaration.omit and column.computed is None and not isinstance(column.type, LargeBinary)


def _temporary_file() -> str:
    handle, path = tempfile.mkstemp(prefix="fieldhub-export-", suffix=".zip")
    os.close(handle)
    return path


async def _write_zip(
    path: str,
    storage: FileStorage,
    domains: dict[str, dict[str, list[dict[str, Any]]]],
    files: list[tuple[str, str]],
    manifest: dict[str, Any],
) -> None:
    archive = await anyio.to_thread.run_sync(zipfile.ZipFile, path, "w", zipfile.ZIP_DEFLATED)
    try:
        for domain, tables in sorted(domains.items()):
            await anyio.to_thread.run_sync(archive.writestr, f"{domain}.json", msgspec.json.encode(tables))
        for name, key in files:
            try:
                chunks = await storage.open(key)
            except FileMissingError:
                continue
            member = await anyio.to_thread.run_sync(partial(archive.open, name, "w", force_zip64=True))
            try:
                async for chunk in chunks:
                    await anyio.to_thread.run_sync(member.write, chunk)
            finally:
                await anyio.to_thread.run_sync(member.close)
            manifest["files"].append(name)
        await anyio.to_thread.run_sync(archive.writestr, "manifest.json", msgspec.json.encode(manifest))
    finally:
        await anyio.to_thread.run_sync(archive.close)


async def _read_file(path: str) -> AsyncIterator[bytes]:
    async with await anyio.open_file(path, "rb") as handle:
        while chunk := await handle.read(CHUNK):
            yield chunk
