"""``serve --workers 2`` gives each worker process a listening socket of its own in one ``SO_REUSEPORT`` group,
so the kernel spreads connections over them instead of the first awake taking most."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from tests.serving import TwoWorkers

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc; SO_REUSEPORT spreads on Linux only")


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return sorted(found)


def _listening_inodes(port: int) -> set[str]:
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].rsplit(":", 1)[1], 16)
        if local_port == port and fields[3] == "0A":  # LISTEN
            inodes.add(fields[9])
    return inodes


def _sockets_of(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = fd.readlink().name
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


async def test_each_worker_listens_on_a_socket_of_its_own(two_worker_server: TwoWorkers) -> None:
    async with asyncio.timeout(60):
        await two_worker_server.live()
        while True:
            listening = _listening_inodes(two_worker_server.port)
            per_worker = [_sockets_of(pid) & listening for pid in _children(two_worker_server.pid)]
            if len([own for own in per_worker if own]) == 2:
                break
            await asyncio.sleep(0.2)
    own = [inodes for inodes in per_worker if inodes]
    assert [len(inodes) for inodes in own] == [1, 1]
    assert own[0] != own[1], "both workers listen on one shared socket"
