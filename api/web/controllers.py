"""Serve the browser client: ``index.html`` at ``/`` and the files under ``/static/``, with a strict CSP."""

from __future__ import annotations

import asyncio
import functools
import importlib.resources
from pathlib import PurePosixPath
from typing import Annotated, Final

from litestar import Controller, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import PathParameter

STATIC = importlib.resources.files("api.web") / "static"

CONTENT_SECURITY_POLICY: Final = (
    "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data: blob:; style-src 'self'; "
    "script-src 'self'; object-src 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS: Final = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    # No build step means no content hashes in file names: revalidate every time (cheap with ETag-less 200s
    # on a LAN; a CDN in front may cache harder).
    "Cache-Control": "no-cache",
}
CONTENT_TYPES: Final = {
    ".html": "text/html",
    ".js": "text/javascript",
    ".css": "text/css",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
}

StaticPath = Annotated[str, PathParameter(description="A file of the client, relative to /static/.")]


def content_type_of(name: str) -> str | None:
    """The media type served for a file name, or ``None`` when the client ships no such kind of file.

    >>> content_type_of("views/chat.js")
    'text/javascript'
    """
    return CONTENT_TYPES.get(PurePosixPath(name).suffix.lower())


@functools.lru_cache(maxsize=256)
def read_static(relative: str) -> bytes:
    """The bytes of ``relative`` under the static folder (kept in memory: the client's files do not
    change while a process runs). Blocking on first read: call it through :func:`static_bytes`.

    Raises:
        NotFoundException: for an unknown kind of file, a path leaving the folder (``..``, absolute,
            hidden parts) or a file that does not exist.
    """
    parts = PurePosixPath(relative.lstrip("/")).parts
    if not parts or any(part in ("", ".", "..") or part.startswith(".") or "\\" in part for part in parts):
        raise NotFoundException("No such file.")
    resource = STATIC.joinpath(*parts)
    if not resource.is_file():
        raise NotFoundException("No such file.")
    return resource.read_bytes()


async def static_bytes(relative: str) -> bytes:
    """:func:`read_static` off the event loop."""
    return await asyncio.to_thread(read_static, relative)


class WebController(Controller):
    """The single-page client: everything under it is public; the API it calls checks the session."""

    path = "/"
    tags = ["web client"]
    include_in_schema = False

    @get("/", operation_id="WebClient", exclude_from_auth=True)
    async def index(self) -> Response[bytes]:
        """The page that boots the client."""
        return Response(await static_bytes("index.html"), media_type=CONTENT_TYPES[".html"], headers=SECURITY_HEADERS)

    @get("/static/{file_path:path}", operation_id="WebClientFile", exclude_from_auth=True)
    async def static_file(self, file_path: StaticPath) -> Response[bytes]:
        """One of the client's scripts, styles or images (404 for anything else)."""
        media_type = content_type_of(file_path)
        if media_type is None:
            raise NotFoundException("No such file.")
        return Response(await static_bytes(file_path), media_type=media_type, headers=SECURITY_HEADERS)
