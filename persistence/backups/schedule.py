"""Scheduled backups in ``fieldhub worker``: one backup per interval (its slot), taken, verified and
pruned by whichever worker holds the backup advisory lock; every other worker skips the slot."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import asyncpg
import msgspec

from persistence.backup import libpq_url
from persistence.backups.restore import verify_backup
from persistence.backups.retention import Retention, expired
from persistence.backups.take import take_backup

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from persistence.backups.catalog import Catalog, Manifest

__all__ = ["BackupCycle", "backup_cycle", "manual_name", "run_backups", "slot_name"]

log = logging.getLogger("fieldhub.backups")

# pg_try_advisory_lock's key for "a backup is being taken": the bytes of "fieldhub" as a bigint.
LOCK_KEY = int.from_bytes(b"fieldhub", "big")
RETRY_AFTER = timedelta(minutes=5)
"""A cycle that failed is tried again this soon, within the same slot."""


class BackupCycle(msgspec.Struct, frozen=True, kw_only=True):
    """What one cycle did: ``skipped`` is ``locked`` when another worker held the lock."""

    taken: Manifest | None = None
    verified: Manifest | None = None
    pruned: list[str] = msgspec.field(default_factory=list)
    skipped: str | None = None


def _slot_start(now: datetime, interval: timedelta) -> datetime:
    seconds = interval.total_seconds()
    return datetime.fromtimestamp(now.timestamp() // seconds * seconds, UTC)


def slot_name(now: datetime, interval: timedelta) -> str:
    """The name of the scheduled backup of the interval ``now`` falls in.

    >>> slot_name(datetime(2026, 3, 1, 10, 42, tzinfo=UTC), timedelta(hours=1))
    'fieldhub-20260301T100000Z'
    """
    return f"fieldhub-{_slot_start(now, interval):%Y%m%dT%H%M%SZ}"


def manual_name(now: datetime) -> str:
    """The name of a backup taken by hand (``fieldhub db backup``): ``fieldhub-20260301T104200Z-manual``."""
    return f"fieldhub-{now.astimezone(UTC):%Y%m%dT%H%M%SZ}-manual"


async def backup_cycle(
    owner_url: str, catalog: Catalog, *, interval: timedelta, retention: Retention, now: datetime
) -> BackupCycle:
    """Take and verify the backup of ``now``'s slot unless it exists, verify it if an earlier cycle
    stopped before doing so, then delete what ``retention`` no longer keeps.

    One cycle runs at a time across every worker (a session advisory lock on the owner's
    connection); the slot's name in the store makes a second cycle in the same slot a no-op.
    """
    connection = await asyncpg.connect(libpq_url(owner_url))
    try:
        if not await connection.fetchval("SELECT pg_try_advisory_lock($1)", LOCK_KEY):
            return BackupCycle(skipped="locked")
        name = slot_name(now, interval)
        taken = verified = None
        if not await catalog.exists(name):
            taken = await take_backup(owner_url, catalog, name=name)
            verified = await verify_backup(owner_url, catalog, taken)
        elif (existing := await catalog.manifest(name)).verification is None:
            verified = await verify_backup(owner_url, catalog, existing)
        pruned = expired(await catalog.manifests(), now=now, retention=retention)
        for old in pruned:
            await catalog.remove(old)
        return BackupCycle(taken=taken, verified=verified, pruned=pruned)
    finally:
        # Closing the session releases its advisory lock.
        await connection.close()


async def run_backups(
    owner_url: str,
    catalog: Catalog,
    stop: asyncio.Event,
    *,
    interval: timedelta,
    retention: Retention,
    observe: Callable[[Sequence[Manifest]], None] | None = None,
) -> None:
    """Run :func:`backup_cycle` at the start of every slot until ``stop`` is set.

    Args:
        observe: called with every manifest in the store after each cycle (the worker sets its
            backup gauges from them).

    A cycle that raises is logged and tried again after ``RETRY_AFTER`` (or at the next slot, if
    sooner). Cancelling the task abandons a dump or restore in progress: the scratch database is
    dropped and the next cycle verifies a backup left unverified.
    """
    seconds = interval.total_seconds()
    while not stop.is_set():
        retry = None
        try:
            cycle = await backup_cycle(
                owner_url, catalog, interval=interval, retention=retention, now=datetime.now(UTC)
            )
        except Exception:
            log.exception("scheduled backup to %s failed", catalog.store.describe())
            retry = RETRY_AFTER.total_seconds()
        else:
            _log_cycle(cycle)
        if observe is not None:
            try:
                observe(await catalog.manifests())
            except Exception:
                log.exception("listing the backups in %s failed", catalog.store.describe())
        # Wake at the next slot's start (the current slot is done, or someone else's).
        wait = seconds - datetime.now(UTC).timestamp() % seconds
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), min(wait, retry or wait))


def _log_cycle(cycle: BackupCycle) -> None:
    done = cycle.verified
    if done is not None and done.verification is not None:
        if done.verification.error is None:
            log.info("backup %s verified in %.1f s", done.name, done.verification.restore_seconds)
        else:
            log.error("backup %s failed verification: %s", done.name, done.verification.error)
    if cycle.pruned:
        log.info("pruned backups %s", ", ".join(cycle.pruned))
