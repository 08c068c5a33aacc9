"""The review queue: list and filter cases, read one with its context, claim, release, act."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, get, post
from litestar.params import JSONBody, PathParameter, QueryParameter
from litestar.response import Stream

from api.auth.guards import requires
from api.auth.permissions import Permission
from api.auth.services import AuthService
from api.chat.uploads import FileStorageDep, file_download, file_storage
from api.deps import DbSession, Limit, Offset, OptionalId, RuntimeDep
from api.errors import AppError
from api.moderation.deps import ModerationDep, commit_and_publish, dependencies
from api.moderation.schemas import TakeAction
from channels.moderation.actions import Enforcement
from channels.moderation.cases import CaseQueue
from channels.moderation.views import ActionView, CaseDetail, CaseStatus, CaseView
from persistence.models import Attachment

# The client's page for appealing a suspension without a session (views/suspension.js).
SUSPENSION_APPEAL_PAGE = "/#/suspension-appeal"
CaseId = Annotated[UUID, PathParameter(description="The case.")]


class CaseController(Controller):
    path = "/api/v1/moderation/cases"
    tags = ["moderation"]
    guards = [requires(Permission.MODERATION_REVIEW)]
    dependencies = {**dependencies, "file_storage": file_storage}

    @get("/", operation_id="ListCases")
    async def list_cases(
        self,
        moderation: ModerationDep,
        status: Annotated[CaseStatus | None, QueryParameter(description="Default: open and in review.")] = None,
        reason: Annotated[str | None, QueryParameter(max_length=32)] = None,
        conversation_id: OptionalId = None,
        rule_id: OptionalId = None,
        reporter_id: OptionalId = None,
        author_id: OptionalId = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> list[CaseView]:
        """Cases in the moderator's scope: safety and threats first, then by flag count, oldest first."""
        return await CaseQueue(moderation).list(
            status=status,
            reason=reason,
            conversation_id=conversation_id,
            rule_id=rule_id,
            reporter_id=reporter_id,
            author_id=author_id,
            limit=limit,
            offset=offset,
        )

    @get("/{case_id:uuid}", operation_id="GetCase")
    async def detail(self, case_id: CaseId, moderation: ModerationDep) -> CaseDetail:
        """The case, its flags, the messages around it, the author's other cases and the actions taken."""
        return await CaseQueue(moderation).detail(case_id)

    @get("/{case_id:uuid}/file", operation_id="GetCaseFile")
    async def case_file(
        self, case_id: CaseId, moderation: ModerationDep, db_session: DbSession, file_storage: FileStorageDep
    ) -> Stream:
        """The reported file's bytes, for a moderator who need not be a member of its conversation
        (404 when the case is about a message, or the file is gone)."""
        case = await CaseQueue(moderation).get(case_id)
        attachment = await db_session.get(Attachment, case.attachment_id) if case.attachment_id else None
        if attachment is None or attachment.message_id is None:
            raise AppError("not_found", "No such file.", status_code=404)
        return await file_download(file_storage, attachment)

    @post("/{case_id:uuid}/claim", operation_id="ClaimCase", status_code=200)
    async def claim(self, case_id: CaseId, moderation: ModerationDep, runtime: RuntimeDep) -> CaseView:
        case = CaseView.from_row(await CaseQueue(moderation).claim(case_id))
        await commit_and_publish(runtime, moderation)
        return case

    @post("/{case_id:uuid}/release", operation_id="ReleaseCase", status_code=200)
    async def release(self, case_id: CaseId, moderation: ModerationDep, runtime: RuntimeDep) -> CaseView:
        case = CaseView.from_row(await CaseQueue(moderation).release(case_id))
        await commit_and_publish(runtime, moderation)
        return case

    @post("/{case_id:uuid}/actions", operation_id="ActOnCase", status_code=201)
    async def act(
        self, case_id: CaseId, data: JSONBody[TakeAction], moderation: ModerationDep, runtime: RuntimeDep
    ) -> ActionView:
        """Dismiss, hide, restore, delete, warn, mute, suspend, approve or reject (held), uphold or
        overturn (appeals); ``reason`` is required. A suspension revokes the author's sessions and
        closes their sockets on every node once committed, and mails them how to appeal."""
        enforcement = Enforcement(moderation, appeal_url=f"{runtime.settings.public_url}{SUSPENSION_APPEAL_PAGE}")
        action = await enforcement.act(
            case_id, data.kind, reason=data.reason, mute_minutes=data.mute_minutes, mute_scope=data.mute_scope
        )
        auth = AuthService(runtime=runtime)
        revoked = []
        for user_id in enforcement.suspended:
            revoked += await auth.revoke_sessions(moderation.session, user_id=user_id)
        await commit_and_publish(runtime, moderation)
        await auth.announce_revoked(revoked)
        return action
