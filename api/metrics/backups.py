"""The backup gauges ``fieldhub worker`` exposes on its metrics port, set from the store's manifests
after every backup cycle (so a restarted worker reports the store's state, not zero)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import Gauge

if TYPE_CHECKING:
    from collections.abc import Sequence

    from persistence.backups import Manifest

# Labelled by store kind, so a worker with backups off exposes no sample and no backup alert fires.
backup_last_success = Gauge(
    "fieldhub_backup_last_success_timestamp_seconds",
    "When the newest backup in the store was taken (its snapshot), Unix seconds; 0 when there is none.",
    ["store"],
    multiprocess_mode="max",
)
backup_last_verified = Gauge(
    "fieldhub_backup_last_verified_timestamp_seconds",
    "When the newest backup proven by a restore was taken, Unix seconds; 0 when none is verified.",
    ["store"],
    multiprocess_mode="max",
)


def observe_backups(manifests: Sequence[Manifest], *, store: str) -> None:
    """Set both gauges of ``store`` (``folder`` or ``s3``) from every manifest in it."""
    taken = [manifest.taken_at.timestamp() for manifest in manifests]
    verified = [manifest.taken_at.timestamp() for manifest in manifests if manifest.status == "verified"]
    backup_last_success.labels(store=store).set(max(taken, default=0.0))
    backup_last_verified.labels(store=store).set(max(verified, default=0.0))
