"""The backup gauges: set from the store's manifests, labelled by store kind, absent where backups are off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prometheus_client import REGISTRY, generate_latest

from api.metrics import observe_backups
from persistence.backups import Manifest, Verification
from tests.api.metrics.scrape import sample

TAKEN = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def _backup(hours: int, status: str | None) -> Manifest:
    taken_at = TAKEN + timedelta(hours=hours)
    verification = None
    if status == "verified":
        verification = Verification(status="verified", verified_at=taken_at, restore_seconds=2.0)
    elif status == "failed":
        verification = Verification(status="failed", verified_at=taken_at, restore_seconds=2.0, error="corrupt: x")
    return Manifest(
        name=f"fieldhub-{hours}",
        taken_at=taken_at,
        size_bytes=1,
        sha256="0" * 64,
        revision="r",
        tables={},
        dump_seconds=1.0,
        verification=verification,
    )


def test_the_gauges_show_the_newest_backup_and_the_newest_verified_one() -> None:
    observe_backups(
        [_backup(0, "verified"), _backup(1, "verified"), _backup(2, "failed"), _backup(3, None)], store="s3"
    )
    text = generate_latest(REGISTRY).decode()
    last = (TAKEN + timedelta(hours=3)).timestamp()
    verified = (TAKEN + timedelta(hours=1)).timestamp()
    assert sample(text, "fieldhub_backup_last_success_timestamp_seconds", store="s3") == last
    assert sample(text, "fieldhub_backup_last_verified_timestamp_seconds", store="s3") == verified


def test_an_empty_store_reports_zero_so_the_alert_fires() -> None:
    observe_backups([], store="empty-store")
    text = generate_latest(REGISTRY).decode()
    assert sample(text, "fieldhub_backup_last_verified_timestamp_seconds", store="empty-store") == 0.0
