"""``python -m tests.delivery.worker_process``: a notification worker in a process of its own, for tests that kill it.

Configured from the environment: ``FIELDHUB_DATABASE_URL`` (the owner's URL; the worker connects as
the application role), ``FIELDHUB_SMTP_URL`` and ``FIELDHUB_SECRET_KEY`` (which opens the stored
VAPID key). Runs the notification job kinds only, polling every 0.2 s, and prints ``ready`` once
it is about to claim.
"""

from __future__ import annotations

import asyncio
import os

from delivery.email import EmailSender
from delivery.escalation import Escalation
from delivery.push import PushSender
from delivery.vapid import load_vapid
from delivery.worker import Worker
from persistence.engine import Database, app_role_url


async def _run() -> None:
    secret = os.environ["FIELDHUB_SECRET_KEY"]
    db = Database(url=app_role_url(os.environ["FIELDHUB_DATABASE_URL"]), pool_size=4)
    mailer = EmailSender(smtp_url=os.environ["FIELDHUB_SMTP_URL"], sender="fieldhub <noreply@fieldhub.test>")
    async with db.transaction() as session:
        vapid = await load_vapid(session, secret=secret)
    push = PushSender(vapid=vapid, subject="mailto:ops@fieldhub.test", timeout=5.0)
    escalation = Escalation(
        db=db, mailer=mailer, push=push, presence=None, secret=secret, public_url="https://fieldhub.test"
    )
    worker = Worker(db=db, handlers=escalation.handlers(), poll_seconds=0.2, concurrency=4)
    print("ready", flush=True)
    await worker.run(asyncio.Event())  # until killed


if __name__ == "__main__":
    asyncio.run(_run())
