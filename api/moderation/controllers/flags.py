"""Flagging: any member reports a message or a file they can see; and appeals of actions against them."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.params import JSONBody

from api.auth.guards import requires
from api.auth.permissions import Permission
from api.chat.deps import ConversationsDep
from api.chat.deps import dependencies as chat_dependencies
from api.deps import OptionalId, RuntimeDep
from api.moderation.deps import ModerationDep, commit_and_publish, dependencies
from api.moderation.schemas import Appeal, FlagItem, FlagReceipt
from channels.moderation.appeals import actions_against, appeal
from channels.moderation.flags import flag_item
from channels.moderation.views import AppealView, OwnActionView


class FlagController(Controller):
    path = "/api/v1/moderation"
    tags = ["moderation"]
    guards = [requires(Permission.CHAT_USE)]
    dependencies = {**dependencies, **chat_dependencies}

    @post("/flags", operation_id="FlagItem", status_code=201)
    async def flag(
        self, data: JSONBody[FlagItem], moderation: ModerationDep, conversations: ConversationsDep, runtime: RuntimeDep
    ) -> FlagReceipt:
        """Report a message or file: 404 if the caller cannot see it, 409 ``already_flagged`` the second time."""
        case = await flag_item(
            moderation,
            conversations,
            reason=data.reason,
            note=data.note,
            message_id=data.message_id,
            attachment_id=data.attachment_id,
        )
        await commit_and_publish(runtime, moderation)
        # Reporters learn that their report was filed, not what else the case holds.
        return FlagReceipt(case_id=case.id)

    @post("/appeals", operation_id="AppealAction", status_code=201)
    async def appeal(self, data: JSONBody[Appeal], moderation: ModerationDep, runtime: RuntimeDep) -> AppealView:
        """Appeal an action taken against the caller, once (409 ``already_appealed`` after)."""
        made = await appeal(moderation, data.action_id, data.statement)
        await commit_and_publish(runtime, moderation)
        return made

    @get("/actions/mine", operation_id="ListActionsAgainstMe")
    async def mine(self, moderation: ModerationDep, message_id: OptionalId = None) -> list[OwnActionView]:
        """Actions taken against the caller (on one message, if given), newest first: what can be
        appealed, and how earlier appeals stand. Who took them is not told."""
        return await actions_against(moderation, message_id=message_id)
