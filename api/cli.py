"""The ``fieldhub`` command line: serve, worker, db, audit, keys, demo, create-admin."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import logging
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from api import embedded
from api.logs import configure_logging
from api.settings import Settings, SettingsError, load_settings
from persistence.engine import Database, app_role_url

if TYPE_CHECKING:
    from collections.abc import Coroutine, Sequence

    from persistence.backups import Catalog, Manifest

log = logging.getLogger("fieldhub")


def _with_servers(settings: Settings, *, redis: bool) -> Settings:
    """Settings pointing at real servers, starting embedded ones where none is configured."""
    database_url = settings.database_url
    if database_url is None:
        database_url = embedded.start_postgres(settings.data_path / "postgres")
        print(f"started embedded PostgreSQL in {settings.data_path / 'postgres'}", file=sys.stderr)
    redis_url = settings.redis_url
    if redis and not redis_url:
        redis_url = embedded.start_redis(settings.data_path / "redis")
        print(f"started embedded Redis in {settings.data_path / 'redis'}", file=sys.stderr)
    return settings.with_urls(database_url=database_url, redis_url=redis_url)


def _exit_cleanly(signum: int, frame: object) -> None:
    raise SystemExit(0)


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app
    from hub.draining import DrainingServer

    # uvicorn re-raises the SIGTERM it shut down on; by default that kills the process before
    # atexit, which would orphan the embedded PostgreSQL and Redis. Exit cleanly instead.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    settings = _with_servers(settings, redis=True)
    # Workers are separate processes: they read the servers chosen here from the environment.
    os.environ["FIELDHUB_DATABASE_URL"] = settings.database_url or ""
    os.environ["FIELDHUB_REDIS_URL"] = settings.redis_url or ""
    os.environ.setdefault("FIELDHUB_SECRET_KEY", settings.resolved_secret_key())
    if "FIELDHUB_ALLOWED_ORIGINS" not in os.environ:
        # Unconfigured, the browser client works on whatever port this serves.
        own = [f"http://127.0.0.1:{args.port}", f"http://localhost:{args.port}"]
        origins = list(dict.fromkeys([*settings.allowed_origins, *own]))
        os.environ["FIELDHUB_ALLOWED_ORIGINS"] = ",".join(origins)
        settings = msgspec.structs.replace(settings, allowed_origins=origins)
    options: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "loop": "uvloop" if sys.platform != "win32" else "auto",
        "http": "httptools",
        # The sans-I/O implementation: the fastest of uvicorn's, and ~21 KiB per idle socket.
        "ws": "websockets-sansio",
        "ws_per_message_deflate": False,
        "log_config": None,
        "proxy_headers": True,
        "timeout_graceful_shutdown": 15,
    }
    print(f"fieldhub serving on http://{args.host}:{args.port}", file=sys.stderr)
    if args.workers > 1:
        from api.metrics import prepare_multiprocess_dir

        # Each worker process counts into files here; any one of them answers /metrics for all.
        prepare_multiprocess_dir(settings.data_path / "metrics")
        # Several processes: each closes its sockets with 1012 on shutdown and clients resume.
        uvicorn.run("api.app:create_app", factory=True, workers=args.workers, **options)
        return 0
    app = create_app(settings)
    DrainingServer(uvicorn.Config(app, **options), hub=app.state.hub).run()
    return 0


async def _worker(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import timedelta

    from api.approvals.jobs import PERIODIC as APPROVALS_PERIODIC
    from api.approvals.jobs import approval_job_handlers
    from api.approvals.services import install_action_links
    from api.approvals.subjects_registry import register_domain_subjects
    from api.attendance.lateness import LATENESS_PERIODICS, lateness_job_handlers
    from api.board.realtime import publish_live_from_worker
    from api.maintenance.jobs import MAINTENANCE_PERIODICS, maintenance_job_handlers
    from api.privacy.jobs import PRIVACY_PERIODICS, privacy_job_handlers
    from api.reports.jobs import REPORT_PERIODICS, report_job_handlers
    from api.tasks.jobs import TASK_PERIODICS, task_job_handlers
    from api.tracing import tracing_for
    from channels.jobs import SWEEP_JOB, chat_job_handlers
    from channels.storage import LocalFileStorage
    from delivery.email import EmailSender
    from delivery.relays import TenantRelays
    from delivery.runner import run_delivery_worker
    from persistence.schedule import Periodic, run_schedule

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    db = _database(settings)
    queue_watch: asyncio.Task[None] | None = None
    if args.metrics_port is not None:
        from prometheus_client import start_http_server

        from api.metrics import instrument_pool
        from delivery.metrics import watch_queue

        instrument_pool(db.engine, name="worker")
        start_http_server(args.metrics_port, addr=args.metrics_host)
        queue_watch = asyncio.create_task(watch_queue(db, stop))
        log.info("worker metrics on http://%s:%d/metrics", args.metrics_host, args.metrics_port)
    chat_handlers = chat_job_handlers(
        db=db,
        storage=LocalFileStorage(root=settings.data_path / "files"),
        orphan_after=timedelta(hours=settings.upload_orphan_hours),
    )
    # Periodic per-tenant jobs, enqueued once per interval however many workers run.
    periodics = [Periodic(kind=SWEEP_JOB, interval=timedelta(seconds=settings.chat_sweep_interval_seconds))]
    periodics += TASK_PERIODICS
    periodics += MAINTENANCE_PERIODICS
    periodics += LATENESS_PERIODICS
    # Privacy: retention of attendance, notifications, audit and expired exports.
    periodics += PRIVACY_PERIODICS
    # Scheduled reports (due every minute) and the daily attendance summary they read.
    periodics += REPORT_PERIODICS
    # Approval reminders, escalations and expiry; their notifications carry signed action links.
    periodics.append(APPROVALS_PERIODIC)
    install_action_links(db, settings.resolved_secret_key())
    register_domain_subjects()  # expiry and escalation end requests here too
    stop_live = await publish_live_from_worker(db, redis_url=settings.redis_url, cluster=settings.redis_cluster)
    schedule = asyncio.create_task(run_schedule(db, stop, periodics))
    backups = _start_backups(settings, stop)
    tracing = tracing_for(settings, "worker")  # None unless an OTLP endpoint is configured
    if tracing is not None:
        tracing.start()  # a job that enqueues another carries its trace on
    # Scheduled reports' mail: a connection or two of its own, and each tenant's own relay where it has one.
    report_mailer = EmailSender(smtp_url=settings.smtp_url, sender=settings.mail_from)
    report_relays = TenantRelays(
        keyring=settings.keyring(), default=report_mailer, private_hosts=settings.mail_relay_private_hosts
    )
    log.info("worker started")
    try:
        await run_delivery_worker(
            db=db,
            stop=stop,
            redis_url=settings.redis_url,
            redis_cluster=settings.redis_cluster,
            smtp_url=settings.smtp_url,
            mail_from=settings.mail_from,
            secret=settings.resolved_secret_key(),
            public_url=settings.public_url,
            vapid_subject=settings.vapid_subject,
            vapid_private_key=settings.vapid_private_key,
            encryption_key=settings.encryption_key,
            mail_relay_private_hosts=settings.mail_relay_private_hosts,
            concurrency=args.concurrency,
            job_scope=tracing.job_scope if tracing is not None else None,
            extra_handlers={
                **chat_handlers,
                **task_job_handlers(db=db),
                **maintenance_job_handlers(db=db),
                **lateness_job_handlers(db=db),
                **approval_job_handlers(db),
                **privacy_job_handlers(db=db, storage=LocalFileStorage(root=settings.data_path / "files")),
                **report_job_handlers(
                    db=db,
                    mailer=report_mailer,
                    secret=settings.resolved_secret_key(),
                    public_url=settings.public_url,
                    relays=report_relays,
                ),
            },
        )
    finally:
        stop.set()
        await schedule
        await report_relays.close()
        if backups is not None:
            # A backup in progress is abandoned (its dump or restore killed), not waited for.
            backups.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await backups
        await stop_live()
        if queue_watch is not None:
            await queue_watch
        await db.dispose()
        if tracing is not None:
            await tracing.shutdown()
    log.info("worker stopped")
    return 0


def _backup_catalog(settings: Settings) -> Catalog | None:
    """The catalog of the configured backup store (folder or S3 bucket), or ``None`` when there is none."""
    from persistence.backups import Catalog, FolderStore, S3Store

    if settings.backup_dir:
        return Catalog(FolderStore(root=Path(settings.backup_dir).resolve()))
    if settings.backup_s3_bucket:
        return Catalog(
            S3Store(
                bucket=settings.backup_s3_bucket,
                prefix=settings.backup_s3_prefix,
                endpoint_url=settings.backup_s3_endpoint_url,
                region=settings.backup_s3_region,
                access_key_id=settings.backup_s3_access_key_id,
                secret_access_key=settings.backup_s3_secret_access_key,
            )
        )
    return None


def _start_backups(settings: Settings, stop: asyncio.Event) -> asyncio.Task[None] | None:
    """Scheduled, verified backups into the configured store until ``stop``; ``None`` when none is configured."""
    from datetime import timedelta
    from functools import partial

    from api.metrics import observe_backups
    from persistence.backups import Retention, run_backups

    catalog = _backup_catalog(settings)
    if catalog is None:
        log.info("scheduled backups off: set FIELDHUB_BACKUP_DIR or FIELDHUB_BACKUP_S3_BUCKET")
        return None
    retention = Retention(
        keep_all=timedelta(hours=settings.backup_keep_all_hours),
        keep_daily=timedelta(days=settings.backup_keep_daily_days),
    )
    interval = timedelta(seconds=settings.backup_interval_seconds)
    log.info("backups every %s to %s", interval, catalog.store.describe())
    owner_url = _with_servers(settings, redis=False).database_url or ""
    observe = partial(observe_backups, store=catalog.store.kind)
    return asyncio.create_task(
        run_backups(owner_url, catalog, stop, interval=interval, retention=retention, observe=observe)
    )


def _db(settings: Settings, args: argparse.Namespace) -> int:
    from alembic.util.exc import CommandError

    owner_url = _with_servers(settings, redis=False).database_url or ""
    if args.db_command in ("backup", "backups", "restore"):
        return _backup_command(owner_url, args, _backup_catalog(settings))
    try:
        return _db_command(owner_url, args)
    except CommandError as exc:
        # e.g. "Ambiguous walk" when stepping down from a merge point: name a revision instead.
        print(f"db {args.db_command}: {exc}", file=sys.stderr)
        return 1


def _db_command(owner_url: str, args: argparse.Namespace) -> int:
    from persistence import migrate

    match args.db_command:
        case "upgrade":
            migrate.upgrade(owner_url, args.revision)
            print(f"database at {migrate.current(owner_url) or 'base'}")
        case "downgrade":
            migrate.downgrade(owner_url, args.revision)
            print(f"database at {migrate.current(owner_url) or 'base'}")
        case "current":
            print(migrate.current(owner_url) or "base (no migration applied)")
        case "check":
            try:
                migrate.check(owner_url)
            except migrate.SchemaDriftError as exc:
                print(f"schema drift: {exc}", file=sys.stderr)
                return 1
            print("models and migrations agree")
        case "report":
            from persistence.report import collect_report, render_report

            report = asyncio.run(collect_report(owner_url))
            print(msgspec.json.encode(report).decode() if args.json else render_report(report))
    return 0


def _backup_command(owner_url: str, args: argparse.Namespace, catalog: Catalog | None) -> int:
    """``db backup [FILE]``, ``db backups`` and ``db restore NAME|FILE``."""
    from persistence.backup import BackupError, backup, restore
    from persistence.backups import restore_backup
    from persistence.backups.catalog import render_backups

    try:
        if args.db_command == "backup" and args.file:
            asyncio.run(backup(owner_url, Path(args.file)))
            print(f"backup written to {args.file}")
            return 0
        if args.db_command == "restore" and (Path(args.target).is_file() or "/" in args.target):
            if not Path(args.target).is_file():
                raise BackupError(f"no file {args.target}", code="not_found")
            asyncio.run(restore(owner_url, Path(args.target)))
            print(f"restored {args.target}")
            return 0
        if catalog is None:
            raise BackupError(
                "no backup store configured: set FIELDHUB_BACKUP_DIR or FIELDHUB_BACKUP_S3_BUCKET", code="no_store"
            )
        match args.db_command:
            case "backups":
                manifests = asyncio.run(catalog.manifests())
                print(msgspec.json.encode(manifests).decode() if args.json else render_backups(manifests))
            case "backup":
                manifest = asyncio.run(_take_verified_backup(owner_url, catalog))
                print(render_backups([manifest]))
                return 0 if manifest.status == "verified" else 1
            case "restore":
                manifest = asyncio.run(restore_backup(owner_url, catalog, args.target))
                print(
                    f"restored {manifest.name} (taken {manifest.taken_at.isoformat()}) from {catalog.store.describe()}"
                )
    except BackupError as exc:
        print(f"db {args.db_command}: {exc.message} ({exc.code})", file=sys.stderr)
        return 1
    return 0


async def _take_verified_backup(owner_url: str, catalog: Catalog) -> Manifest:
    from datetime import UTC, datetime

    from persistence.backups import manual_name, take_backup, verify_backup

    taken = await take_backup(owner_url, catalog, name=manual_name(datetime.now(UTC)))
    return await verify_backup(owner_url, catalog, taken)


async def _audit(settings: Settings, args: argparse.Namespace) -> int:
    """``audit verify [--tenant SLUG]``: walk each tenant's hash chain as the owner; 1 when one is broken."""
    from sqlalchemy.ext.asyncio import create_async_engine

    from persistence.audit_chain import render_report, verify_chains
    from persistence.engine import asyncpg_url

    engine = create_async_engine(asyncpg_url(_with_servers(settings, redis=False).database_url or ""))
    try:
        async with engine.connect() as connection:
            reports = await verify_chains(connection, slug=args.tenant)
    except LookupError as exc:
        print(f"audit verify: {exc}", file=sys.stderr)
        return 2
    finally:
        await engine.dispose()
    for slug, report in reports:
        print(render_report(slug, report), file=sys.stdout if report.intact else sys.stderr)
    return 0 if all(report.intact for _, report in reports) else 1


async def _keys(settings: Settings, args: argparse.Namespace) -> int:
    """``keys rewrap``: re-seal every stored secret under the first key of FIELDHUB_ENCRYPTION_KEY (as the owner)."""
    from sqlalchemy.ext.asyncio import create_async_engine

    from persistence.encryption import SealedValueError, rewrap
    from persistence.engine import asyncpg_url

    engine = create_async_engine(asyncpg_url(_with_servers(settings, redis=False).database_url or ""))
    try:
        async with engine.begin() as connection:
            done = await rewrap(connection, settings.keyring())
    except SealedValueError as exc:
        print(f"keys rewrap: {exc}", file=sys.stderr)
        return 1
    finally:
        await engine.dispose()
    print(
        f"re-sealed under key {settings.keyring().current_key_id!r}: " + ", ".join(f"{n} {t}" for t, n in done.items())
    )
    return 0


def _database(settings: Settings) -> Database:

    resolved = _with_servers(settings, redis=False)
    return Database(url=resolved.database_app_url or app_role_url(resolved.database_url or ""), pool_size=2)


async def _demo(settings: Settings, args: argparse.Namespace) -> int:
    from api.demo import DEMO_PASSWORD, DEMO_SLUG, seed_demo

    db = _database(settings)
    try:
        logins = await seed_demo(db, once=args.once)
    except ValueError as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return 1
    finally:
        await db.dispose()
    if logins is None:
        print(f"demo tenant '{DEMO_SLUG}' exists; sign in with its accounts (password {DEMO_PASSWORD})")
        return 0
    print(f"demo tenant '{DEMO_SLUG}' created; every account's password is {DEMO_PASSWORD}")
    for login in logins:
        print(f"  {login.role:<11} {login.email:<34} {login.name}")
    return 0


async def _create_admin(settings: Settings, args: argparse.Namespace) -> int:
    from sqlalchemy.exc import IntegrityError

    from api.auth.passwords import check_policy
    from api.errors import AppError
    from api.provisioning import OPERATOR_ROLE, create_tenant, create_user, ensure_operator_role

    password = os.environ.get("FIELDHUB_ADMIN_PASSWORD") or getpass.getpass("password: ")
    try:
        check_policy(password)
    except AppError as exc:
        print(f"create-admin: {exc.message}", file=sys.stderr)
        return 2
    db = _database(settings)
    try:
        async with db.transaction() as session:
            tenant = await create_tenant(session, name=args.tenant_name or args.tenant, slug=args.tenant)
            roles = ["admin"]
            if args.operator:
                await ensure_operator_role(session, tenant.id)
                roles.append(OPERATOR_ROLE)
            await create_user(
                session, tenant_id=tenant.id, email=args.email, name=args.name, password=password, roles=roles
            )
    except IntegrityError:
        print(f"create-admin: a tenant with slug {args.tenant!r} exists already", file=sys.stderr)
        return 1
    finally:
        await db.dispose()
    print(f"created tenant '{args.tenant}' with admin {args.email}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fieldhub", description="Real-time chat and notification hub.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the HTTP API, the WebSocket hub and the web client")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    worker = commands.add_parser("worker", help="run delivery and scheduled jobs")
    worker.add_argument("--concurrency", type=int, default=8, help="jobs run at once")
    worker.add_argument("--metrics-port", type=int, help="serve Prometheus metrics on this port (default: none)")
    worker.add_argument("--metrics-host", default="127.0.0.1", help="address the metrics port binds")
    db = commands.add_parser("db", help="schema and data operations")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade").add_argument("revision", nargs="?", default="heads")
    db_commands.add_parser("downgrade").add_argument("revision", nargs="?", default="-1")
    db_commands.add_parser("current")
    db_commands.add_parser("check")
    backup = db_commands.add_parser("backup", help="pg_dump into FILE; without one, a verified backup into the store")
    backup.add_argument("file", nargs="?")
    db_commands.add_parser("backups", help="list the backups in the store and their verification").add_argument(
        "--json", action="store_true", help="print the manifests as JSON"
    )
    db_commands.add_parser("restore", help="restore a backup into an empty database").add_argument(
        "target", metavar="NAME|FILE", help="a backup's name in the store, or a dump file"
    )
    report = db_commands.add_parser("report", help="revision, drift, sizes, index and RLS findings, slow statements")
    report.add_argument("--json", action="store_true", help="print the report as JSON")
    keys = commands.add_parser("keys", help="the keys secrets at rest are sealed with")
    keys.add_subparsers(dest="keys_command", required=True).add_parser(
        "rewrap", help="re-seal stored secrets under the first key of FIELDHUB_ENCRYPTION_KEY (after a rotation)"
    )
    audit = commands.add_parser("audit", help="the tamper-evident audit trail")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    audit_commands.add_parser("verify", help="check every tenant's audit hash chain").add_argument(
        "--tenant", metavar="SLUG", help="only this tenant"
    )
    demo = commands.add_parser("demo", help="create the demo tenant and print its logins")
    demo.add_argument("--once", action="store_true", help="do nothing if the demo tenant exists")
    admin = commands.add_parser("create-admin", help="create a tenant and its first admin")
    admin.add_argument("--email", required=True)
    admin.add_argument("--name", required=True)
    admin.add_argument("--tenant", required=True, help="tenant slug")
    admin.add_argument("--tenant-name")
    admin.add_argument("--operator", action="store_true", help="may also create other tenants")
    return parser


def _run_on_uvloop(work: Coroutine[Any, Any, int]) -> int:
    """Run ``work`` on uvloop where installed: the worker's many sends cost less CPU on it."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(work)
    return uvloop.run(work)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"fieldhub: configuration error: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    match args.command:
        case "serve":
            return _serve(settings, args)
        case "worker":
            return _run_on_uvloop(_worker(settings, args))
        case "db":
            return _db(settings, args)
        case "audit":
            return asyncio.run(_audit(settings, args))
        case "keys":
            return asyncio.run(_keys(settings, args))
        case "demo":
            return asyncio.run(_demo(settings, args))
        case "create-admin":
            return asyncio.run(_create_admin(settings, args))
    return 2


if __name__ == "__main__":
    sys.exit(main())
