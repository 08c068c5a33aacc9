"""The backups in a store: each is a dump (``<name>.dump``) and its manifest (``<name>.json``), which
says when it was taken, what it holds and whether a restore of it was proven."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

import msgspec

from persistence.backup import BackupError
from persistence.backups.store import check_key

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from persistence.backups.store import BackupStore

__all__ = ["Catalog", "Manifest", "Status", "Verification", "file_sha256", "render_backups"]

log = logging.getLogger("fieldhub.backups")

Status = Literal["verified", "failed", "unverified"]
DUMP, MANIFEST = ".dump", ".json"


class Verification(msgspec.Struct, frozen=True, kw_only=True):
    """The outcome of restoring a backup into a scratch database and counting its rows."""

    status: Literal["verified", "failed"]
    verified_at: datetime
    restore_seconds: float
    """Download, checksum, restore and count: how long getting this backup back took."""
    error: str | None = None
    """Why it failed (``corrupt: ...``, ``tool_failed: ...``, ``counts: ...``); ``None`` when verified."""


class Manifest(msgspec.Struct, frozen=True, kw_only=True):
    """What a backup holds, written next to its dump once the dump is complete."""

    name: str
    taken_at: datetime
    """The instant of the snapshot the dump and the counts were read from."""
    size_bytes: int
    sha256: str
    revision: str
    """The Alembic revision(s) of the schema in the dump, comma-separated."""
    tables: dict[str, int]
    """Rows per table, counted in the dump's own snapshot."""
    dump_seconds: float
    verification: Verification | None = None

    @property
    def status(self) -> Status:
        return "unverified" if self.verification is None else self.verification.status


def file_sha256(path: Path) -> str:
    """The hex SHA-256 of a file, read in 1 MiB blocks. Blocking: call it in a thread."""
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def render_backups(manifests: Sequence[Manifest]) -> str:
    """The ``fieldhub db backups`` table: one line per backup, newest last, and the error of each failure."""
    lines = [f"{'name':<34} {'taken_at (UTC)':<20} {'size':>10}  status"]
    for manifest in manifests:
        taken = manifest.taken_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        size = f"{manifest.size_bytes / 1048576:.1f} MiB"
        status: str = manifest.status
        if manifest.verification is not None:
            status += f" in {manifest.verification.restore_seconds:.1f} s"
            if manifest.verification.error:
                status += f": {manifest.verification.error}"
        lines.append(f"{manifest.name:<34} {taken:<20} {size:>10}  {status}")
    if not manifests:
        lines.append("(no backups)")
    return "\n".join(lines)


class Catalog:
    """Backups by name over a :class:`BackupStore`.

    A backup exists once its manifest does: the dump is uploaded first, so a crash in between
    leaves an object no listing shows, which the next backup of the same name overwrites.
    """

    def __init__(self, store: BackupStore) -> None:
        self.store = store

    async def manifests(self) -> list[Manifest]:
        """Every backup's manifest, oldest first. A manifest that does not decode is logged and skipped."""
        found = []
        for key in await self.store.keys():
            if not key.endswith(MANIFEST):
                continue
            try:
                found.append(msgspec.json.decode(await self.store.read(key), type=Manifest))
            except msgspec.DecodeError:
                log.warning("skipping backup manifest %s: it does not decode", key)
            except BackupError:
                continue  # deleted while listing
        return sorted(found, key=lambda manifest: manifest.taken_at)

    async def manifest(self, name: str) -> Manifest:
        """The manifest of backup ``name``.

        Raises:
            BackupError: code ``not_found`` (or ``bad_name``).
        """
        try:
            data = await self.store.read(check_key(name) + MANIFEST)
        except BackupError as exc:
            if exc.code == "not_found":
                raise BackupError(f"no backup named {name!r} in {self.store.describe()}", code="not_found") from None
            raise
        return msgspec.json.decode(data, type=Manifest)

    async def exists(self, name: str) -> bool:
        return check_key(name) + MANIFEST in await self.store.keys()

    async def add(self, manifest: Manifest, dump: Path) -> None:
        """Store ``dump`` and then its manifest."""
        await self.store.upload(manifest.name + DUMP, dump)
        await self.record(manifest)

    async def record(self, manifest: Manifest) -> None:
        """Write ``manifest`` (again, e.g. with its verification)."""
        await self.store.write(check_key(manifest.name) + MANIFEST, msgspec.json.encode(manifest))

    async def fetch(self, manifest: Manifest, target: Path) -> None:
        """Download ``manifest``'s dump to ``target`` and check it is the file that was written.

        Raises:
            BackupError: code ``corrupt`` when its size or SHA-256 differ from the manifest's;
                ``not_found`` when the dump is missing.
        """
        await self.store.download(manifest.name + DUMP, target)
        size = (await asyncio.to_thread(target.stat)).st_size
        if size != manifest.size_bytes:
            raise BackupError(f"the dump has {size} bytes, its manifest says {manifest.size_bytes}", code="corrupt")
        if await asyncio.to_thread(file_sha256, target) != manifest.sha256:
            raise BackupError("the dump's SHA-256 differs from its manifest's", code="corrupt")

    async def remove(self, name: str) -> None:
        """Delete backup ``name``: its manifest first, so it stops being listed before its dump goes."""
        await self.store.delete(check_key(name) + MANIFEST)
        await self.store.delete(name + DUMP)
