"""Where uploaded files' bytes live: a small async interface over byte streams, and the local-folder backend."""

from __future__ import annotations

import os
import re
import secrets
from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
import anyio.to_thread

if TYPE_CHECKING:
    from collections.abc import AsyncIterable, AsyncIterator

__all__ = ["FileMissingError", "FileStorage", "LocalFileStorage"]

READ_CHUNK = 64 * 1024
_KEY = re.compile(r"^[a-z0-9][a-z0-9-]*(/[a-z0-9][a-z0-9-]*)*$")


class FileMissingError(LookupError):
    """The storage holds nothing under this key."""


class FileStorage(ABC):
    """Bytes by key. Keys are ``/``-separated lowercase ``[a-z0-9-]`` words, chosen by the caller.

    Backends move bytes only; what a file is and who may read it is decided above them.
    """

    @abstractmethod
    async def save(self, key: str, stream: AsyncIterable[bytes]) -> int:
        """Store everything ``stream`` yields under ``key``; visible only once complete.

        If ``stream`` raises (a size limit, a refused type, a client gone), nothing is left
        under ``key`` and the exception propagates.

        Returns:
            The number of bytes stored.
        """

    @abstractmethod
    async def open(self, key: str) -> AsyncIterator[bytes]:
        """The stored bytes, in chunks.

        Raises:
            FileMissingError: nothing is stored under ``key`` (raised here, before any chunk).
        """

    @abstractmethod
    async def delete(self, key: str) -> bool:
        """Remove ``key``. Idempotent. Returns whether something was removed."""


def _checked(key: str) -> str:
    if not _KEY.fullmatch(key) or len(key) > 255:
        raise ValueError(f"invalid storage key {key!r}")
    return key


class LocalFileStorage(FileStorage):
    """Files in a local folder (``<data_dir>/files`` by default); every file operation runs in a thread.

    A file is written to a hidden temporary name next to its final path and renamed into place
    once complete, so a reader never sees half a file. Several nodes may share the folder over a
    network file system; object storage can replace this class behind the same interface.

    Args:
        root: the folder; created on first save.
    """

    def __init__(self, *, root: Path) -> None:
        self.root = root

    def path_of(self, key: str) -> Path:
        """Where ``key``'s bytes are on disk (for operators and tests)."""
        return self.root / _checked(key)

    async def save(self, key: str, stream: AsyncIterable[bytes]) -> int:
        final = self.path_of(key)
        partial = final.with_name(f".{final.name}.{secrets.token_hex(4)}.part")
        await anyio.to_thread.run_sync(lambda: final.parent.mkdir(parents=True, exist_ok=True))
        written = 0
        try:
            async with await anyio.open_file(partial, "xb") as out:
                async for chunk in stream:
                    await out.write(chunk)
                    written += len(chunk)
                await out.flush()
                await anyio.to_thread.run_sync(os.fsync, out.wrapped.fileno())
            await anyio.to_thread.run_sync(os.replace, partial, final)
        except BaseException:
            # Shielded: a cancelled upload must still remove its partial file.
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(lambda: partial.unlink(missing_ok=True))
            raise
        return written

    async def open(self, key: str) -> AsyncIterator[bytes]:
        try:
            source = await anyio.open_file(self.path_of(key), "rb")
        except FileNotFoundError:
            raise FileMissingError(key) from None
        return _chunks(source)

    async def delete(self, key: str) -> bool:
        path = self.path_of(key)

        def unlink() -> bool:
            try:
                path.unlink()
            except FileNotFoundError:
                return False
            return True

        return await anyio.to_thread.run_sync(unlink)


async def _chunks(source: anyio.AsyncFile[bytes]) -> AsyncIterator[bytes]:
    async with source:
        while chunk := await source.read(READ_CHUNK):
            yield chunk
