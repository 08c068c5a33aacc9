"""A throwaway Redis Cluster from the machine's ``redis-server``: N primaries, R replicas each, free ports.

Used by ``bench.fanout --redis-cluster`` and by the failover tests, which kill a primary and wait
for its replica to take over.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any

import redis

BUS_PORT_OFFSET = 10_000
"""A cluster node also listens on its port + 10000 (the cluster bus)."""


def _free_port() -> int:
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port + BUS_PORT_OFFSET < 65_536:
            return port


def _command(port: int, *args: str) -> Any:
    """One command on the node at ``port``, on a connection of its own."""
    with redis.Redis(port=port, socket_timeout=2, socket_connect_timeout=2) as client:
        return client.execute_command(*args)


def _wait(check: Callable[[], bool], what: str, timeout: float) -> None:
    """Poll ``check()`` until it is true; ``TimeoutError`` naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (redis.RedisError, OSError):
            pass  # a node still starting or just killed: ask again
        time.sleep(0.05)
    raise TimeoutError(f"redis cluster: {what} not within {timeout} s")


class LocalRedisCluster:
    """``primaries`` primaries with ``replicas`` replicas each, as child processes in a temporary folder.

    Args:
        primaries: At least 3 (Redis Cluster needs a majority of primaries to fail one over).
        replicas: Replicas per primary; with 1 or more, killing a primary promotes its replica.
        node_timeout_ms: ``cluster-node-timeout``: how long a silent primary takes to be declared failed.
    """

    def __init__(self, *, primaries: int = 3, replicas: int = 0, node_timeout_ms: int = 1_000) -> None:
        self._count = primaries * (1 + replicas)
        self._primaries = primaries
        self._replicas = replicas
        self._node_timeout_ms = node_timeout_ms
        self._folder = Path(tempfile.mkdtemp(prefix="fieldhub-cluster-"))
        self.ports = [_free_port() for _ in range(self._count)]
        self._processes: dict[int, subprocess.Popen[bytes]] = {}

    @property
    def url(self) -> str:
        """A seed URL (any node will do: clients discover the others)."""
        return f"redis://127.0.0.1:{self.ports[0]}/0"

    def __enter__(self) -> LocalRedisCluster:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def start(self, timeout: float = 60.0) -> None:
        """Start every node, join them into a cluster and wait until it serves every slot."""
        for port in self.ports:
            folder = self._folder / str(port)
            folder.mkdir()
            args = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
            args += ["--dir", str(folder), "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"]
            args += ["--cluster-node-timeout", str(self._node_timeout_ms)]
            self._processes[port] = subprocess.Popen(args, stdout=subprocess.DEVNULL)
        for port in self.ports:
            _wait(partial(_command, port, "PING"), f"node {port} up", timeout)
        addresses = [f"127.0.0.1:{port}" for port in self.ports]
        subprocess.run(
            [
                "redis-cli",
                "--cluster",
                "create",
                *addresses,
                "--cluster-replicas",
                str(self._replicas),
                "--cluster-yes",
            ],
            check=True,
            capture_output=True,
            timeout=timeout,
        )
        _wait(self._settled, "all slots served and replicas in sync", timeout)

    def stop(self) -> None:
        """Kill every node and remove the folder."""
        for process in self._processes.values():
            if process.poll() is None:
                process.kill()
            process.wait()
        self._processes.clear()
        shutil.rmtree(self._folder, ignore_errors=True)

    def primary_of(self, key: str) -> int:
        """The port of the primary serving ``key``'s slot (a channel name counts as a key)."""
        owner = self._owner(self._live_port(), self._slot(key))
        if owner is None:
            raise LookupError(f"no primary serves {key!r}")
        return owner

    def kill(self, port: int) -> None:
        """Crash one node (SIGKILL: no goodbye to clients or to the cluster)."""
        process = self._processes[port]
        process.send_signal(signal.SIGKILL)
        process.wait()

    def wait_failover(self, key: str, *, old_primary: int, timeout: float = 20.0) -> int:
        """Wait until another node serves ``key``'s slot and the cluster is ok again; its port."""
        slot = self._slot(key)

        def promoted() -> bool:
            return all(self._owner(port, slot) not in (old_primary, None) for port in self._live_ports()) and all(
                self._state_ok(port) for port in self._live_ports()
            )

        _wait(promoted, f"failover of slot {slot}", timeout)
        return self.primary_of(key)

    def _settled(self) -> bool:
        if not all(self._state_ok(port) for port in self.ports):
            return False
        nodes = self._nodes(self.ports[0])
        replicas = [n for n in nodes if "slave" in n["flags"]]
        if len(replicas) != self._primaries * self._replicas:
            return False
        return all(
            _command(replica["port"], "INFO", "replication").get("master_link_status") == "up" for replica in replicas
        )

    def _slot(self, key: str) -> int:
        return int(_command(self._live_port(), "CLUSTER", "KEYSLOT", key))

    def _state_ok(self, port: int) -> bool:
        return b"cluster_state:ok" in _command(port, "CLUSTER", "INFO")

    def _owner(self, port: int, slot: int) -> int | None:
        for node in self._nodes(port):
            serving = "master" in node["flags"] and "fail" not in node["flags"]
            if serving and any(first <= slot <= last for first, last in node["slots"]):
                return int(node["port"])
        return None

    def _nodes(self, port: int) -> list[dict[str, Any]]:
        """``CLUSTER NODES`` as seen from ``port``: flags (a list), port and slot ranges per node."""
        raw = _command(port, "CLUSTER", "NODES")
        text = raw if isinstance(raw, str) else bytes(raw).decode()
        nodes: list[dict[str, Any]] = []
        for line in text.splitlines():
            fields = line.split()
            if len(fields) < 8:
                continue
            address = fields[1].split("@", 1)[0]
            ranges = []
            for spec in fields[8:]:
                if spec.startswith("["):
                    continue  # a slot being migrated
                first, _, last = spec.partition("-")
                ranges.append((int(first), int(last or first)))
            nodes.append({"port": int(address.rsplit(":", 1)[1]), "flags": fields[2].split(","), "slots": ranges})
        return nodes

    def _live_ports(self) -> list[int]:
        return [port for port, process in self._processes.items() if process.poll() is None]

    def _live_port(self) -> int:
        return self._live_ports()[0]
