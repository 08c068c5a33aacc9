"""Scheduled, verified backups: a store (folder or S3), a catalog of dumps and manifests, taking,
verifying and restoring, the retention rule and the worker's schedule."""

from persistence.backups.catalog import Catalog, Manifest, Verification
from persistence.backups.restore import restore_backup, verify_backup
from persistence.backups.retention import Retention, expired
from persistence.backups.schedule import BackupCycle, backup_cycle, manual_name, run_backups, slot_name
from persistence.backups.store import BackupStore, FolderStore, S3Store
from persistence.backups.take import take_backup

__all__ = [
    "BackupCycle",
    "BackupStore",
    "Catalog",
    "FolderStore",
    "Manifest",
    "Retention",
    "S3Store",
    "Verification",
    "backup_cycle",
    "expired",
    "manual_name",
    "restore_backup",
    "run_backups",
    "slot_name",
    "take_backup",
    "verify_backup",
]
