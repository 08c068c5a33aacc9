"""``python -m bench.delivery_sinks``: the SMTP sink and the push stand-in of ``bench.delivery``, in one process.

An aiosmtpd server accepts every message and keeps its ``Message-ID``; the push stand-in checks
each request as a push service does (VAPID JWT signature and claims, ``aes128gcm`` body under
4 KiB decrypted with the subscription's private key, ``TTL``; the JWT's signature checked once per
distinct token, every payload decrypted) and keeps the notification id of the payload, its ``Topic``
and the subscription it was for. Both record the arrival time. Both listen on 127.0.0.1 only.

Protocol on stdin/stdout, one line each: it prints ``ready <smtp_port> <push_port> <p256dh> <auth>`` (the
browser keys every bench subscription carries);
then ``count`` answers ``{"email": n, "push": n, "rejected": n}``; ``dump <file>`` writes every
arrival to ``file`` as JSON (``[Message-ID, unix time]`` per mail, ``[notification id, unix time,
Topic, subscription]`` per push) and answers ``dumped``; ``reset``
forgets everything; ``stop`` (or end of input) exits.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

from aiohttp import web
from aiosmtpd.smtp import SMTP

from bench.push_service import FakeBrowser, PushRejected, open_push

_MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*(<[^>\r\n]+>)", re.IGNORECASE | re.MULTILINE)


class Arrivals:
    def __init__(self) -> None:
        self.email: list[tuple[str, float]] = []
        """``(Message-ID, arrival time)`` per accepted mail."""
        self.push: list[tuple[str, float, str, str]] = []
        """``(notification id, arrival time, Topic, subscription)`` per accepted push."""
        self.rejected: list[str] = []


class MailSink:
    """aiosmtpd handler: accept everything, keep the Message-ID (read from the header block only)."""

    def __init__(self, arrivals: Arrivals) -> None:
        self.arrivals = arrivals

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content: bytes = envelope.original_content or envelope.content
        head = content.split(b"\r\n\r\n", 1)[0]
        found = _MESSAGE_ID.search(head)
        self.arrivals.email.append((found.group(1).decode() if found else "", time.time()))
        return "250 OK"


def _write(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data))


async def _serve(browser: FakeBrowser) -> None:
    arrivals = Arrivals()
    loop = asyncio.get_running_loop()
    sink = MailSink(arrivals)
    smtp_server = await loop.create_server(
        lambda: SMTP(sink, hostname="sink.bench", data_size_limit=1 << 20), host="127.0.0.1", port=0
    )
    smtp_port = smtp_server.sockets[0].getsockname()[1]

    push_port = 0

    async def push(request: web.Request) -> web.Response:
        try:
            received = await open_push(request, browser, f"http://127.0.0.1:{push_port}")
        except PushRejected as exc:
            arrivals.rejected.append(str(exc))
            return web.Response(status=exc.status, text=str(exc))
        name = request.match_info["name"]
        arrivals.push.append((str(received["payload"].get("id", "")), time.time(), received["topic"] or "", name))
        return web.Response(status=201)

    app = web.Application()
    app.router.add_post("/push/{name}", push)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
    await site.start()
    push_port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    keys = browser.subscription("https://unused.invalid/").keys
    print(f"ready {smtp_port} {push_port} {keys.p256dh} {keys.auth}", flush=True)

    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    try:
        while line := (await reader.readline()).decode().strip():
            command, _, argument = line.partition(" ")
            if command == "count":
                counts = {"email": len(arrivals.email), "push": len(arrivals.push), "rejected": len(arrivals.rejected)}
                print(json.dumps(counts), flush=True)
            elif command == "dump":
                _write(Path(argument), {"email": arrivals.email, "push": arrivals.push, "rejected": arrivals.rejected})
                print("dumped", flush=True)
            elif command == "reset":
                arrivals.email.clear()
                arrivals.push.clear()
                arrivals.rejected.clear()
                print("reset", flush=True)
            elif command == "stop":
                break
    finally:
        smtp_server.close()
        await runner.cleanup()


def main() -> None:
    browser = FakeBrowser()
    try:
        import uvloop
    except ImportError:
        asyncio.run(_serve(browser))
    else:
        uvloop.run(_serve(browser))


if __name__ == "__main__":
    main()
