"""Where backups live: a handful of blocking-free methods over named objects, backed by a local
folder or an S3-compatible bucket. Stores move files and bytes; what they mean is the catalog's job."""

from __future__ import annotations

import abc
import asyncio
import os
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from persistence.backup import BackupError

if TYPE_CHECKING:
    from collections.abc import Callable

    from mypy_boto3_s3 import S3Client

__all__ = ["BackupStore", "FolderStore", "S3Store", "check_key"]

T = TypeVar("T")
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")


def check_key(key: str) -> str:
    """Return ``key`` if it names an object in a store: ``fieldhub-20260101T100000Z.dump`` yes,
    ``../etc/passwd`` or ``a/b`` no (a key never leaves the store's folder or prefix).

    Raises:
        BackupError: code ``bad_name``.
    """
    if not _KEY.match(key):
        raise BackupError(f"{key!r} is not a backup name (letters, digits, '.', '_' and '-')", code="bad_name")
    return key


def _not_found(key: str) -> BackupError:
    return BackupError(f"no backup object {key!r} in the store", code="not_found")


class BackupStore(abc.ABC):
    """Named objects in one place. Every method runs its I/O in a thread, off the event loop.

    A write is all or nothing: an object appears under its key only once it is complete. Every
    failure is a :class:`BackupError`: ``not_found``, ``bad_name`` or ``store_failed``.
    """

    kind: ClassVar[str]
    """``folder`` or ``s3``: the ``store`` label of the backup metrics."""

    @abc.abstractmethod
    async def upload(self, key: str, source: Path) -> None:
        """Copy the file ``source`` to ``key``, replacing any object there."""

    @abc.abstractmethod
    async def download(self, key: str, target: Path) -> None:
        """Copy ``key`` to the file ``target``.

        Raises:
            BackupError: code ``not_found``.
        """

    @abc.abstractmethod
    async def write(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key``, replacing any object there."""

    @abc.abstractmethod
    async def read(self, key: str) -> bytes:
        """The bytes under ``key``.

        Raises:
            BackupError: code ``not_found``.
        """

    @abc.abstractmethod
    async def keys(self) -> list[str]:
        """Every key in the store, in no particular order."""

    @abc.abstractmethod
    async def delete(self, key: str) -> None:
        """Remove ``key``; a key that is not there is no error."""

    @abc.abstractmethod
    def describe(self) -> str:
        """Where the store is, for logs and the command line (never a credential)."""


class FolderStore(BackupStore):
    """A local folder (a mounted volume, an NFS share). Created on first write.

    Args:
        root: the folder; nothing else should write into it.
    """

    kind = "folder"

    def __init__(self, *, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def _partial(self, key: str) -> Path:
        # A dot-name: not a key (check_key refuses it), so listings never show a half-written file.
        return self.root / f".{check_key(key)}.partial"

    def _copy_in(self, key: str, source: Path) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        partial = self._partial(key)
        shutil.copyfile(source, partial)
        os.replace(partial, self._path(key))

    def _write(self, key: str, data: bytes) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        partial = self._partial(key)
        partial.write_bytes(data)
        os.replace(partial, self._path(key))

    def _keys(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return [entry.name for entry in self.root.iterdir() if entry.is_file() and _KEY.match(entry.name)]

    async def _call(self, key: str | None, call: Callable[..., T], /, *args: Any) -> T:
        """Run file work in a thread; a missing ``key`` is ``not_found``, any other OS error ``store_failed``."""
        try:
            return await asyncio.to_thread(call, *args)
        except FileNotFoundError:
            if key is None:
                raise BackupError(f"{self.describe()} is not there", code="store_failed") from None
            raise _not_found(key) from None
        except OSError as exc:
            raise BackupError(f"{self.describe()}: {exc}", code="store_failed") from None

    async def upload(self, key: str, source: Path) -> None:
        await self._call(None, self._copy_in, key, source)

    async def download(self, key: str, target: Path) -> None:
        await self._call(key, shutil.copyfile, self._path(key), target)

    async def write(self, key: str, data: bytes) -> None:
        await self._call(None, self._write, key, data)

    async def read(self, key: str) -> bytes:
        return await self._call(key, self._path(key).read_bytes)

    async def keys(self) -> list[str]:
        return await self._call(None, self._keys)

    async def delete(self, key: str) -> None:
        await self._call(None, self._path(key).unlink, True)

    def describe(self) -> str:
        return f"folder {self.root}"


class S3Store(BackupStore):
    """A bucket of any S3-compatible service (AWS S3, MinIO, Ceph, Backblaze B2...), through boto3.

    Args:
        bucket: the bucket; it must exist.
        prefix: prepended to every key (``fieldhub/`` keeps backups in one "folder").
        endpoint_url: the service's URL; unset for AWS S3.
        region: the bucket's region; unset: boto3's default.
        access_key_id: with ``secret_access_key``; unset: boto3's own chain (environment
            variables, a shared credentials file, an instance or pod role).
        secret_access_key: see ``access_key_id``.

    Large files go up and down in parts (boto3's transfer manager); a part upload that fails
    leaves no object behind.
    """

    kind = "s3"

    def __init__(
        self,
        *,
        bucket: str,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
    ) -> None:
        import boto3

        self.bucket = bucket
        self.prefix = prefix
        self.endpoint_url = endpoint_url
        # boto3 clients are thread-safe: one is shared by every call's worker thread.
        self._client: S3Client = boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
        )

    def _object(self, key: str) -> str:
        return f"{self.prefix}{check_key(key)}"

    async def _call(self, key: str | None, call: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run a boto3 call in a thread; its errors become ``not_found`` (for ``key``) or ``store_failed``."""
        from boto3.exceptions import Boto3Error
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return await asyncio.to_thread(call, *args, **kwargs)
        except ClientError as exc:
            if key is not None and exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey"):
                raise _not_found(key) from None
            raise BackupError(f"{self.describe()}: {exc}", code="store_failed") from None
        except (BotoCoreError, Boto3Error) as exc:
            raise BackupError(f"{self.describe()}: {exc}", code="store_failed") from None

    async def upload(self, key: str, source: Path) -> None:
        await self._call(None, self._client.upload_file, str(source), self.bucket, self._object(key))

    async def download(self, key: str, target: Path) -> None:
        await self._call(key, self._client.download_file, self.bucket, self._object(key), str(target))

    async def write(self, key: str, data: bytes) -> None:
        await self._call(None, self._client.put_object, Bucket=self.bucket, Key=self._object(key), Body=data)

    def _read(self, key: str) -> bytes:
        return self._client.get_object(Bucket=self.bucket, Key=self._object(key))["Body"].read()

    async def read(self, key: str) -> bytes:
        return await self._call(key, self._read, key)

    def _keys(self) -> list[str]:
        found = []
        for page in self._client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix):
            for item in page.get("Contents", []):
                key = item["Key"][len(self.prefix) :]
                if _KEY.match(key):
                    found.append(key)
        return found

    async def keys(self) -> list[str]:
        return await self._call(None, self._keys)

    async def delete(self, key: str) -> None:
        await self._call(None, self._client.delete_object, Bucket=self.bucket, Key=self._object(key))

    def describe(self) -> str:
        where = f"s3://{self.bucket}/{self.prefix}"
        return where if self.endpoint_url is None else f"{where} at {self.endpoint_url}"
