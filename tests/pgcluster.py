"""A private PostgreSQL primary and its streaming replica (``pg_basebackup -R``) from the machine's
binaries, on free ports in a temporary folder: what the read-routing tests run against."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import asyncpg

BIN = Path(os.environ.get("FIELDHUB_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
TOOLS = ("initdb", "pg_ctl", "pg_basebackup")
# initdb and postgres refuse to run as root: as root the servers run as the packaged postgres user.
SERVER_USER = "postgres"


def missing_tools() -> list[str]:
    """The binaries this needs that are not there (the tests skip, naming them)."""
    return [tool for tool in TOOLS if not (BIN / tool).is_file()]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _run(*args: str | Path) -> None:
    command = [str(arg) for arg in args]
    if os.geteuid() == 0:
        command = ["runuser", "-u", SERVER_USER, "--", *command]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}): {done.stdout}{done.stderr}")


@dataclass
class Server:
    data: Path
    port: int

    def url(self, user: str = "postgres") -> str:
        """A SQLAlchemy URL (asyncpg) of the server's ``postgres`` database as ``user``."""
        return f"postgresql+asyncpg://{user}@127.0.0.1:{self.port}/postgres"

    def dsn(self) -> str:
        """A libpq URL as the superuser, for ``asyncpg.connect``."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self, log: Path) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data.parent}"
        _run(BIN / "pg_ctl", "-D", self.data, "-o", options, "-l", log, "-w", "-t", "60", "start")

    def stop(self) -> None:
        _run(BIN / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")


@dataclass
class StreamingPair:
    """A running primary and a hot standby streaming from it; owner URLs as ``postgres``."""

    folder: Path
    primary: Server
    replica: Server

    @classmethod
    def start(cls) -> StreamingPair:
        folder = Path(tempfile.mkdtemp(prefix="fieldhub-replica-"))
        if os.geteuid() == 0:
            entry = pwd.getpwnam(SERVER_USER)
            os.chown(folder, entry.pw_uid, entry.pw_gid)
        pair = cls(
            folder=folder,
            primary=Server(folder / "primary", free_port()),
            replica=Server(folder / "replica", free_port()),
        )
        try:
            pair._start()
        except BaseException:
            pair.stop()
            raise
        return pair

    def _start(self) -> None:
        _run(BIN / "initdb", "-D", self.primary.data, "--username=postgres", "--auth=trust", "-E", "UTF8")
        with (self.primary.data / "postgresql.conf").open("a") as conf:
            # Durability is not under test; fsync off keeps the setup quick on a loaded machine.
            conf.write("wal_level = replica\nmax_wal_senders = 4\nfsync = off\nhot_standby = on\n")
        with (self.primary.data / "pg_hba.conf").open("a") as hba:
            hba.write("host replication all 127.0.0.1/32 trust\n")
        self.primary.start(self.folder / "primary.log")
        # -R writes primary_conninfo and standby.signal: the copy starts as a streaming standby.
        _run(
            BIN / "pg_basebackup",
            "-h", "127.0.0.1",
            "-p", str(self.primary.port),
            "-U", "postgres",
            "-D", self.replica.data,
            "-R", "-X", "stream", "-c", "fast",
        )  # fmt: skip
        self.replica.start(self.folder / "replica.log")

    async def set_replay(self, *, paused: bool) -> None:
        """Pause or resume WAL replay on the replica (it keeps receiving WAL meanwhile)."""
        connection = await asyncpg.connect(self.replica.dsn())
        try:
            await connection.execute(f"SELECT pg_wal_replay_{'pause' if paused else 'resume'}()")
        finally:
            await connection.close()

    def stop(self) -> None:
        """Stop both servers (the replica first) and delete the folder."""
        for server in (self.replica, self.primary):
            if (server.data / "postmaster.pid").exists():
                server.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
