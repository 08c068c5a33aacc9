"""The rule engine: a tenant's rules compiled once into one matcher, cached per process under the
tenant's version stamp, and evaluated against each message in microseconds.

Word and phrase lists of every rule become one alternation (one scan per message whatever the
number of word rules); each regular expression runs over bounded windows (see ``patterns``);
domain and file-type rules are set lookups; spam heuristics compare counts the sender supplies.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit
from uuid import UUID

import msgspec
from sqlalchemy import select

from channels.errors import ChatError
from channels.moderation.patterns import compile_pattern, find_spans
from persistence.models import ModerationRule, ModerationSettings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

RuleKind = Literal[
    "words", "regex", "link_domain", "attachment_type", "mentions", "repeat", "burst", "new_account_links"
]
RuleAction = Literal["flag", "hold", "block", "mask"]
RULE_KINDS: tuple[str, ...] = RuleKind.__args__  # type: ignore[attr-defined]
RULE_ACTIONS: tuple[str, ...] = RuleAction.__args__  # type: ignore[attr-defined]
# Rules that count something need a threshold; the others need terms or a pattern.
COUNTING_KINDS = frozenset({"mentions", "repeat", "burst", "new_account_links"})
MAX_TERMS = 500
MAX_TERM = 200


class RuleSpec(msgspec.Struct, frozen=True, kw_only=True):
    """What the engine needs of one rule."""

    id: UUID
    name: str
    kind: RuleKind
    action: RuleAction
    terms: tuple[str, ...] = ()
    pattern: str | None = None
    threshold: int | None = None


class Sample(msgspec.Struct, kw_only=True):
    """A message as the rules see it. Counts the rules do not need may stay zero."""

    body: str
    links: list[str] = msgspec.field(default_factory=list)
    attachment_types: list[str] = msgspec.field(default_factory=list)
    mention_count: int = 0
    account_age_hours: float = 1e9
    same_text_conversations: int = 0
    """Other conversations where the sender posted this same text in the last 10 minutes."""
    recent_messages: int = 0
    """The sender's messages in the last minute."""


class Hit(msgspec.Struct, frozen=True, kw_only=True):
    rule_id: UUID
    name: str
    action: RuleAction
    spans: tuple[tuple[int, int], ...] = ()


def validate_rule(spec: RuleSpec) -> None:
    """Refuse a rule that cannot work; compiles its pattern (nothing is stored by this).

    Raises:
        ChatError: ``invalid_rule`` with the reason.
    """
    if spec.kind not in RULE_KINDS or spec.action not in RULE_ACTIONS:
        raise ChatError("invalid_rule", "Unknown rule kind or action.")
    if spec.kind in COUNTING_KINDS:
        if spec.threshold is None or spec.threshold < 1:
            raise ChatError("invalid_rule", f"A {spec.kind} rule needs a threshold of at least 1.")
        if spec.action == "mask":
            raise ChatError("invalid_rule", "Only word and regex rules can mask text.")
    elif spec.kind == "regex":
        compile_pattern(spec.pattern or "")
    else:
        if not spec.terms or len(spec.terms) > MAX_TERMS or any(not 0 < len(t.strip()) <= MAX_TERM for t in spec.terms):
            raise ChatError(
                "invalid_rule", f"A {spec.kind} rule needs 1 to {MAX_TERMS} terms of 1 to {MAX_TERM} chars."
            )
        if spec.kind != "words" and spec.action == "mask":
            raise ChatError("invalid_rule", "Only word and regex rules can mask text.")


_WORD = re.compile(r"\w+")


class CompiledRules:
    """A tenant's enabled rules, compiled; :meth:`evaluate` is pure and safe to share across tasks."""

    def __init__(self, specs: list[RuleSpec]) -> None:
        self.specs = specs
        # First word of each term -> the terms (as word tuples) starting with it, and their rules.
        self._by_first: dict[str, list[tuple[tuple[str, ...], list[RuleSpec]]]] = {}
        by_term: dict[tuple[str, ...], list[RuleSpec]] = {}
        self._regexes: list[tuple[RuleSpec, re.Pattern[str]]] = []
        self._domains: dict[str, list[RuleSpec]] = {}
        self._types: dict[str, list[RuleSpec]] = {}
        self._counting: list[RuleSpec] = []
        for spec in specs:
            if spec.kind == "words":
                for term in spec.terms:
                    words = tuple(_WORD.findall(term.lower()))
                    if words:
                        by_term.setdefault(words, []).append(spec)
            elif spec.kind == "regex":
                # Saved rules were probed when saved (validate_rule); the shape checks still run.
                self._regexes.append((spec, compile_pattern(spec.pattern or "", probe=False)))
            elif spec.kind == "link_domain":
                for term in spec.terms:
                    self._domains.setdefault(term.strip().lower().lstrip("."), []).append(spec)
            elif spec.kind == "attachment_type":
                for term in spec.terms:
                    self._types.setdefault(term.strip().lower(), []).append(spec)
            else:
                self._counting.append(spec)
        for words, rules in by_term.items():
            self._by_first.setdefault(words[0], []).append((words, rules))
        self.needs_history = any(s.kind in ("repeat", "burst") for s in self._counting)
        self.needs_account_age = any(s.kind == "new_account_links" for s in self._counting)
        self.needs_attachment_types = bool(self._types)

    @property
    def empty(self) -> bool:
        return not self.specs

    def evaluate(self, sample: Sample) -> list[Hit]:
        """Every rule that fires on ``sample``, with the text spans that made word and regex rules fire."""
        spans: dict[UUID, list[tuple[int, int]]] = {}
        fired: dict[UUID, RuleSpec] = {}
        if self._by_first:
            # One pass over the words of the text: a dictionary lookup per word, whatever the
            # number of terms (an alternation of hundreds of terms is tried at every position).
            tokens = [(m.group(0).lower(), m.start(), m.end()) for m in _WORD.finditer(sample.body)]
            for i, (word, start, _) in enumerate(tokens):
                for words, rules in self._by_first.get(word, ()):
                    end = i + len(words)
                    if end <= len(tokens) and all(tokens[i + k][0] == words[k] for k in range(1, len(words))):
                        for spec in rules:
                            fired[spec.id] = spec
                            spans.setdefault(spec.id, []).append((start, tokens[end - 1][2]))
        for spec, compiled in self._regexes:
            found = find_spans(compiled, sample.body)
            if found:
                fired[spec.id] = spec
                spans.setdefault(spec.id, []).extend(found)
        if self._domains:
            for link in sample.links:
                host = (urlsplit(link).hostname or "").lower()
                parts = host.split(".")
                for i in range(len(parts) - 1):
                    for spec in self._domains.get(".".join(parts[i:]), ()):
                        fired[spec.id] = spec
        for content_type in sample.attachment_types:
            for spec in self._types.get(content_type.lower(), ()):
                fired[spec.id] = spec
        for spec in self._counting:
            if _counts(spec, sample):
                fired[spec.id] = spec
        return [
            Hit(rule_id=spec.id, name=spec.name, action=spec.action, spans=tuple(spans.get(spec.id, ())))
            for spec in fired.values()
        ]


def _counts(spec: RuleSpec, sample: Sample) -> bool:
    threshold = spec.threshold or 1
    if spec.kind == "mentions":
        return sample.mention_count >= threshold
    if spec.kind == "repeat":
        return sample.same_text_conversations + 1 >= threshold
    if spec.kind == "burst":
        return sample.recent_messages + 1 >= threshold
    # new_account_links: the threshold is the account's age in hours below which links are suspect.
    return bool(sample.links) and sample.account_age_hours < threshold


def mask(body: str, hits: list[Hit]) -> str:
    """``body`` with the spans of masking rules replaced by asterisks of the same length.

    >>> mask("you idiot", [Hit(rule_id=UUID(int=1), name="n", action="mask", spans=((4, 9),))])
    'you *****'
    """
    chars = list(body)
    for hit in hits:
        if hit.action == "mask":
            for start, end in hit.spans:
                chars[start:end] = "*" * (end - start)
    return "".join(chars)


def spec_of(rule: ModerationRule) -> RuleSpec:
    return RuleSpec(
        id=rule.id,
        name=rule.name,
        kind=rule.kind,  # type: ignore[arg-type]
        action=rule.action,  # type: ignore[arg-type]
        terms=tuple(rule.terms or ()),
        pattern=rule.pattern,
        threshold=rule.threshold,
    )


RULES_VERSION = select(ModerationSettings.rules_version).scalar_subquery()
"""The current tenant's rules version, to read as a column of another query."""


class RuleCache:
    """Per process: each tenant's compiled rules and the version they were compiled at.

    A send reads the tenant's ``rules_version`` (one indexed row) and recompiles only when a rule
    changed since; every rule change bumps the version in its own transaction, so every node
    picks the change up on its next send without any message between nodes.
    """

    def __init__(self) -> None:
        self._compiled: dict[UUID, tuple[int, CompiledRules]] = {}

    async def rules_for(self, session: AsyncSession, tenant_id: UUID, *, version: int | None = None) -> CompiledRules:
        """The tenant's compiled rules; ``version`` is the tenant's ``rules_version`` when the caller
        read it already (with :data:`RULES_VERSION`, in a query of its own), saving a round trip."""
        if version is None:
            version = await session.scalar(select(ModerationSettings.rules_version)) or 0
        cached = self._compiled.get(tenant_id)
        if cached is not None and cached[0] == version:
            return cached[1]
        rows = await session.scalars(
            select(ModerationRule).where(ModerationRule.enabled.is_(True)).order_by(ModerationRule.created_at)
        )
        compiled = CompiledRules([spec_of(r) for r in rows])
        self._compiled[tenant_id] = (version, compiled)
        return compiled


RULES = RuleCache()
"""The process's cache (shared by the WebSocket and HTTP send paths)."""
