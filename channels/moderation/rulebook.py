"""Managing a tenant's rules: create, change, remove, and try one on a sample before saving it.
Every change bumps the tenant's rules version, so each node recompiles on its next send."""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from uuid_utils.compat import uuid7

from channels.errors import ChatError
from channels.moderation.rules import CompiledRules, RuleSpec, Sample, mask, spec_of, validate_rule
from channels.moderation.screening import hits_summary
from channels.moderation.views import RuleView
from channels.text import find_links, parse_mentions
from persistence.models import ModerationCase, ModerationRule, ModerationSettings

if TYPE_CHECKING:
    from uuid import UUID

    from channels.moderation.cases import ModerationContext

MAX_SAMPLE = 4000
EDITABLE = ("name", "kind", "action", "terms", "pattern", "threshold", "enabled")


def try_rule(spec: RuleSpec, sample: str) -> dict[str, Any]:
    """What ``spec`` would do to ``sample`` (nothing is stored).

    Raises:
        ChatError: ``invalid_rule`` for a rule that cannot be saved.
    """
    validate_rule(spec)
    if len(sample) > MAX_SAMPLE:
        raise ChatError("invalid_message", f"A sample has at most {MAX_SAMPLE} characters.")
    mentions = parse_mentions(sample)
    hits = CompiledRules([spec]).evaluate(
        Sample(
            body=sample,
            links=find_links(sample),
            mention_count=len(mentions.users) + int(mentions.here) + int(mentions.channel),
        )
    )
    return {"fired": bool(hits), "hits": hits_summary(hits), "masked": mask(sample, hits)}


class Rulebook:
    def __init__(self, ctx: ModerationContext) -> None:
        self.ctx = ctx
        self.session = ctx.session

    async def list(self) -> list[RuleView]:
        rows = await self.session.scalars(select(ModerationRule).order_by(ModerationRule.created_at))
        return [RuleView.from_row(r) for r in rows]

    async def report(self) -> builtins.list[dict[str, Any]]:
        """Per rule: how often it fired, and its cases by outcome (``dismissed``: moderators found
        nothing wrong), counted from the cases themselves so it matches the queue."""
        rule_id = func.unnest(ModerationCase.rule_ids).label("rule_id")
        per_case = select(rule_id, ModerationCase.status.label("status")).subquery()
        counts: dict[Any, dict[str, int]] = {}
        rows = await self.session.execute(
            select(per_case.c.rule_id, per_case.c.status, func.count()).group_by(per_case.c.rule_id, per_case.c.status)
        )
        for rid, status, n in rows.tuples():
            counts.setdefault(rid, {})[status] = n
        report = []
        for rule in await self.session.scalars(select(ModerationRule).order_by(ModerationRule.created_at)):
            by = counts.get(rule.id, {})
            report.append(
                {
                    "rule_id": rule.id,
                    "name": rule.name,
                    "action": rule.action,
                    "enabled": rule.enabled,
                    "fired_count": rule.fired_count,
                    "cases": sum(by.values()),
                    "open": by.get("open", 0) + by.get("in_review", 0),
                    "resolved": by.get("resolved", 0),
                    "dismissed": by.get("dismissed", 0),
                }
            )
        return report

    async def create(self, fields: dict[str, Any]) -> RuleView:
        rule = ModerationRule(tenant_id=self.ctx.tenant_id, created_by=self.ctx.actor_id, enabled=True, terms=[])
        for key in EDITABLE:
            if key in fields:
                setattr(rule, key, fields[key])
        validate_rule(spec_of_unsaved(rule))
        self.session.add(rule)
        await self.session.flush()
        await self._changed("moderation.rule.create", rule)
        return RuleView.from_row(rule)

    async def update(self, rule_id: UUID, fields: dict[str, Any]) -> RuleView:
        rule = await self._get(rule_id)
        for key in EDITABLE:
            if key in fields:
                setattr(rule, key, fields[key])
        validate_rule(spec_of(rule))
        await self.session.flush()
        await self._changed("moderation.rule.update", rule)
        return RuleView.from_row(rule)

    async def remove(self, rule_id: UUID) -> None:
        rule = await self._get(rule_id)
        await self._changed("moderation.rule.delete", rule)
        await self.session.delete(rule)

    async def _get(self, rule_id: UUID) -> ModerationRule:
        rule = await self.session.get(ModerationRule, rule_id)
        if rule is None:
            raise ChatError("not_found", "No such rule.")
        return rule

    async def _changed(self, action: str, rule: ModerationRule) -> None:
        await self.session.execute(
            insert(ModerationSettings)
            .values(id=uuid7(), tenant_id=self.ctx.tenant_id, rules_version=1, reveal_moderator=False)
            .on_conflict_do_update(
                index_elements=["tenant_id"], set_={"rules_version": ModerationSettings.rules_version + 1}
            )
        )
        self.ctx.audit(
            action,
            target_type="moderation_rule",
            target_id=rule.id,
            details={k: getattr(rule, k) for k in EDITABLE},
        )


def spec_of_unsaved(rule: ModerationRule) -> RuleSpec:
    """The spec of a rule not yet flushed (its id is a placeholder until then)."""
    return RuleSpec(
        id=rule.id or uuid7(),
        name=rule.name or "",
        kind=rule.kind,  # type: ignore[arg-type]
        action=rule.action,  # type: ignore[arg-type]
        terms=tuple(rule.terms or ()),
        pattern=rule.pattern,
        threshold=rule.threshold,
    )
