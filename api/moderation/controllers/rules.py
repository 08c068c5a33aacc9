"""Automatic rules: list with their fired and dismissed counts, create, change, remove, and test."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.params import JSONBody, PathParameter

from api.auth.guards import requires
from api.auth.permissions import Permission
from api.deps import RuntimeDep
from api.moderation.deps import ModerationDep, commit_and_publish, dependencies
from api.moderation.schemas import RuleFields, RulePatch, RuleReport, RuleTest, RuleTestResult
from channels.moderation.rulebook import Rulebook, try_rule
from channels.moderation.rules import RuleSpec
from channels.moderation.views import RuleView

RuleId = Annotated[UUID, PathParameter(description="The rule.")]


class RuleController(Controller):
    path = "/api/v1/moderation/rules"
    tags = ["moderation"]
    guards = [requires(Permission.MODERATION_RULES)]
    dependencies = dependencies

    @get("/", operation_id="ListRules")
    async def list_rules(self, moderation: ModerationDep) -> list[RuleView]:
        return await Rulebook(moderation).list()

    @get("/report", operation_id="RuleReport")
    async def report(self, moderation: ModerationDep) -> list[RuleReport]:
        """Per rule: how often it fired (blocked sends included) and how many of its cases moderators
        dismissed, resolved, or have still open."""
        return msgspec.convert(await Rulebook(moderation).report(), list[RuleReport])

    @post("/", operation_id="CreateRule", status_code=201)
    async def create(self, data: JSONBody[RuleFields], moderation: ModerationDep, runtime: RuntimeDep) -> RuleView:
        """A new rule (422 ``invalid_rule`` for a bad or catastrophic pattern, nothing stored)."""
        rule = await Rulebook(moderation).create(msgspec.structs.asdict(data))
        await commit_and_publish(runtime, moderation)
        return rule

    @patch("/{rule_id:uuid}", operation_id="UpdateRule")
    async def update(
        self, rule_id: RuleId, data: JSONBody[RulePatch], moderation: ModerationDep, runtime: RuntimeDep
    ) -> RuleView:
        fields = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
        rule = await Rulebook(moderation).update(rule_id, fields)
        await commit_and_publish(runtime, moderation)
        return rule

    @delete("/{rule_id:uuid}", operation_id="DeleteRule", status_code=204)
    async def remove(self, rule_id: RuleId, moderation: ModerationDep, runtime: RuntimeDep) -> None:
        await Rulebook(moderation).remove(rule_id)
        await commit_and_publish(runtime, moderation)

    @post("/test", operation_id="TestRule", status_code=200)
    async def test(self, data: JSONBody[RuleTest]) -> RuleTestResult:
        """What a rule would do to a sample text, before it is saved (nothing is stored)."""
        rule = data.rule
        spec = RuleSpec(
            id=UUID(int=0),
            name=rule.name,
            kind=rule.kind,  # type: ignore[arg-type]
            action=rule.action,  # type: ignore[arg-type]
            terms=tuple(rule.terms),
            pattern=rule.pattern,
            threshold=rule.threshold,
        )
        return msgspec.convert(try_rule(spec, data.sample), RuleTestResult)
