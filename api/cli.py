"""The ``fieldhub`` command line: serve, worker, db, demo, create-admin."""

from __future__ import annotations

import argparse
import asyncio
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
    from collections.abc import Sequence

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


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app
    from hub.draining import DrainingServer

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

    from channels.jobs import SWEEP_JOB, chat_job_handlers
    from channels.storage import LocalFileStorage
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
    schedule = asyncio.create_task(run_schedule(db, stop, periodics))
    log.info("worker started")
    try:
        await run_delivery_worker(
            db=db,
            stop=stop,
            redis_url=settings.redis_url,
            smtp_url=settings.smtp_url,
            mail_from=settings.mail_from,
            secret=settings.resolved_secret_key(),
            public_url=settings.public_url,
            vapid_subject=settings.vapid_subject,
            vapid_private_key=settings.vapid_private_key,
            concurrency=args.concurrency,
            extra_handlers=chat_handlers,
        )
    finally:
        stop.set()
        await schedule
        if queue_watch is not None:
            await queue_watch
        await db.dispose()
    log.info("worker stopped")
    return 0


def _db(settings: Settings, args: argparse.Namespace) -> int:
    from alembic.util.exc import CommandError

    owner_url = _with_servers(settings, redis=False).database_url or ""
    try:
        return _db_command(owner_url, args)
    except CommandError as exc:
        # e.g. "Ambiguous walk" when stepping down from a merge point: name a revision instead.
        print(f"db {args.db_command}: {exc}", file=sys.stderr)
        return 1


def _db_command(owner_url: str, args: argparse.Namespace) -> int:
    from persistence import backup, migrate

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
        case "backup":
            asyncio.run(backup.backup(owner_url, Path(args.file)))
            print(f"backup written to {args.file}")
        case "restore":
            try:
                asyncio.run(backup.restore(owner_url, Path(args.file)))
            except backup.BackupError as exc:
                print(f"restore failed: {exc}", file=sys.stderr)
                return 1
            print(f"restored {args.file}")
        case "report":
            from persistence.report import collect_report, render_report

            report = asyncio.run(collect_report(owner_url))
            print(msgspec.json.encode(report).decode() if args.json else render_report(report))
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
    db_commands.add_parser("backup").add_argument("file")
    db_commands.add_parser("restore").add_argument("file")
    report = db_commands.add_parser("report", help="revision, drift, sizes, index and RLS findings, slow statements")
    report.add_argument("--json", action="store_true", help="print the report as JSON")
    demo = commands.add_parser("demo", help="create the demo tenant and print its logins")
    demo.add_argument("--once", action="store_true", help="do nothing if the demo tenant exists")
    admin = commands.add_parser("create-admin", help="create a tenant and its first admin")
    admin.add_argument("--email", required=True)
    admin.add_argument("--name", required=True)
    admin.add_argument("--tenant", required=True, help="tenant slug")
    admin.add_argument("--tenant-name")
    admin.add_argument("--operator", action="store_true", help="may also create other tenants")
    return parser


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
            return asyncio.run(_worker(settings, args))
        case "db":
            return _db(settings, args)
        case "demo":
            return asyncio.run(_demo(settings, args))
        case "create-admin":
            return asyncio.run(_create_admin(settings, args))
    return 2


if __name__ == "__main__":
    sys.exit(main())
