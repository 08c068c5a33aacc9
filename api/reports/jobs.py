"""The report jobs ``fieldhub worker`` runs: every minute the due schedules get a run; a run builds its CSV as
the schedule's owner would see it, keeps it, and queues one mail per recipient with the CSV attached and a
signed link. A run that fails its last attempt is marked failed and its owner notified."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate
from typing import TYPE_CHECKING, Final
from uuid import UUID

import msgspec

from api.reports.links import download_link
from api.reports.output import csv_bytes
from api.reports.query import ReportParams, permissions_of
from api.reports.services import RUN_JOB, enqueue_due_runs, prepare
from api.reports.summary import SUMMARY_PERIODIC, summary_job_handlers
from delivery.email import message_id_for
from delivery.notify import Recipients, notify
from persistence.jobs import enqueue
from persistence.models import ReportRun, ReportSchedule
from persistence.schedule import Periodic

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from sqlalchemy.ext.asyncio import AsyncSession

    from delivery.email import EmailSender
    from delivery.relays import TenantRelays
    from persistence.engine import Database
    from persistence.jobs import ClaimedJob

__all__ = ["DUE_JOB", "MAIL_JOB", "REPORT_PERIODICS", "report_job_handlers", "run_report"]

log = logging.getLogger("fieldhub.reports")

DUE_JOB: Final = "reports.due"
MAIL_JOB: Final = "reports.mail"
REPORT_PERIODICS: Final = [Periodic(kind=DUE_JOB, interval=timedelta(minutes=1)), SUMMARY_PERIODIC]
MAX_OUTPUT_BYTES: Final = 20 * 1024 * 1024
"""The largest CSV a scheduled run keeps and mails; a larger one fails (narrow the report)."""


async def run_report(session: AsyncSession, *, tenant_id: UUID, run_id: UUID, now: datetime) -> ReportRun | None:
    """Build the run's CSV, keep it, and queue its mails; a run already done is left alone (``None``).

    Raises:
        AppError: the report cannot be prepared any more (a template or filter gone).
        ValueError: the output is over :data:`MAX_OUTPUT_BYTES`.
    """
    run = await session.get(ReportRun, run_id, with_for_update=True)
    if run is None or run.status != "queued":
        return None
    schedule = await session.get_one(ReportSchedule, run.schedule_id)
    _, _, statement = await prepare(
        session,
        tenant_id=tenant_id,
        user_id=schedule.owner_id,
        permissions=await permissions_of(session, schedule.owner_id),
        template=schedule.template,
        params=msgspec.convert(schedule.params, ReportParams),
        now=run.due_at,
    )
    output, count = await csv_bytes(session, statement)
    if len(output) > MAX_OUTPUT_BYTES:
        raise ValueError(f"the report is {len(output)} bytes, over the {MAX_OUTPUT_BYTES} a scheduled run keeps")
    run.output, run.row_count, run.status, run.finished_at, run.error = output, count, "succeeded", now, None
    for address in schedule.recipients:
        await enqueue(
            session,
            tenant_id=tenant_id,
            kind=MAIL_JOB,
            payload={"run_id": str(run.id), "to": address},
            idempotency_key=f"mail:{run.id}:{address}",
        )
    return run


async def fail_run(session: AsyncSession, *, tenant_id: UUID, run_id: UUID, error: str, now: datetime) -> None:
    """Mark the run failed and tell the schedule's owner (once per run)."""
    run = await session.get(ReportRun, run_id, with_for_update=True)
    if run is None or run.status != "queued":
        return
    schedule = await session.get_one(ReportSchedule, run.schedule_id)
    run.status, run.error, run.finished_at = "failed", error[:2000], now
    await notify(
        session,
        tenant_id=tenant_id,
        recipients=Recipients(users=[schedule.owner_id]),
        category="report",
        title=f"Scheduled report failed: {schedule.name}"[:200],
        body=f"The run due {run.due_at.isoformat()} failed after its retries: {error}"[:4000],
        priority="high",
        link=f"/reports/schedules/{schedule.id}",
        data={"schedule_id": str(schedule.id), "run_id": str(run.id)},
        idempotency_key=f"report.failed:{run.id}",
    )


def _mail(*, sender: str, to: str, schedule: ReportSchedule, run: ReportRun, link: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = f"Report: {schedule.name}"
    message["Date"] = formatdate(localtime=False)
    day = run.due_at.astimezone(UTC).date().isoformat()
    message.set_content(
        f"{schedule.name} ({schedule.template}), run for {run.due_at.isoformat()}: {run.row_count} rows.\n\n"
        f"The CSV is attached; it can also be downloaded for 14 days from:\n{link}\n"
    )
    message.add_attachment(run.output or b"", maintype="text", subtype="csv", filename=f"{schedule.template}-{day}.csv")
    return message


def report_job_handlers(
    *, db: Database, mailer: EmailSender, secret: str, public_url: str, relays: TenantRelays | None = None
) -> dict[str, Callable[[ClaimedJob], Awaitable[None]]]:
    """The report handlers ``fieldhub worker`` runs, by job kind (the attendance summary's included).

    A tenant with a mail relay of its own (``relays``) gets its reports through it, as its other mail.
    """

    async def due(job: ClaimedJob) -> None:
        now = datetime.fromisoformat(job.payload["slot_start"])
        async with db.transaction(tenant_id=job.tenant_id) as session:
            added = await enqueue_due_runs(session, tenant_id=job.tenant_id, now=now)
        if added:
            log.info("scheduled reports due", extra={"tenant_id": str(job.tenant_id), "runs": added})

    async def run(job: ClaimedJob) -> None:
        run_id = UUID(job.payload["run_id"])
        try:
            async with db.transaction(tenant_id=job.tenant_id) as session:
                await run_report(session, tenant_id=job.tenant_id, run_id=run_id, now=datetime.now(UTC))
        except Exception as exc:
            if job.attempts >= job.max_attempts:
                async with db.transaction(tenant_id=job.tenant_id) as session:
                    await fail_run(
                        session, tenant_id=job.tenant_id, run_id=run_id, error=str(exc), now=datetime.now(UTC)
                    )
            raise

    async def mail(job: ClaimedJob) -> None:
        run_id = UUID(job.payload["run_id"])
        async with db.transaction(tenant_id=job.tenant_id) as session:
            run = await session.get_one(ReportRun, run_id)
            schedule = await session.get_one(ReportSchedule, run.schedule_id)
            sender = mailer if relays is None else await relays.sender_for(session, job.tenant_id)
        link = download_link(
            secret=secret, public_url=public_url, tenant_id=job.tenant_id, run_id=run.id, now=datetime.now(UTC)
        )
        message = _mail(sender=sender.sender, to=job.payload["to"], schedule=schedule, run=run, link=link)
        message["Message-ID"] = message_id_for(job.id, sender)
        await sender.send_message(message)

    return {DUE_JOB: due, RUN_JOB: run, MAIL_JOB: mail, **summary_job_handlers(db=db)}
