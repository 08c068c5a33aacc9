"""Safe regular expressions for rules: refuse patterns that can backtrack catastrophically, and scan
bounded windows so even a slow pattern's cost is capped per message.

The standard library's ``re`` has no timeout, so safety comes from three limits instead: a
structural check that refuses nested or alternated repeats and back-references (the shapes behind
exponential backtracking), a probe against adversarial text when the rule is saved, and matching in
windows of :data:`WINDOW` characters so the cost grows linearly with the message, never worse.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from channels.errors import ChatError

MAX_PATTERN = 500
WINDOW = 512
# Windows overlap so a match of up to this many characters across a window edge is still found.
OVERLAP = 128
PROBE_BUDGET_S = 0.02
_BRACES = re.compile(r"\{(\d*)(,?)(\d*)\}")
_BACKREFERENCE = re.compile(r"\\[1-9]|\(\?P=")
_PROBES = ("a" * WINDOW, " " * WINDOW, "0" * WINDOW, ("aA0 ._-" * WINDOW)[:WINDOW], "a" * (WINDOW - 1) + "!")


@dataclass
class _Group:
    repeats_inside: bool = False
    alternates: bool = False
    children: list[_Group] = field(default_factory=list)


def compile_pattern(pattern: str, *, probe: bool = True) -> re.Pattern[str]:
    """Compile a rule's pattern (case-insensitive) after refusing the catastrophic shapes.

    ``probe=False`` skips the timing probe: for rules already saved (the send path's cache), so a
    busy machine never turns a rule that passed when it was saved into a refused send.

    >>> compile_pattern(r"free\\s+money").pattern
    'free\\\\s+money'

    Raises:
        ChatError: ``invalid_rule`` for a syntax error, a back-reference, a repeat inside a
            repeat (``(a+)+``), a repeated alternation (``(a|aa)*``), or a pattern that is slow on
            adversarial text.
    """
    if not 0 < len(pattern) <= MAX_PATTERN:
        raise ChatError("invalid_rule", f"A pattern has 1 to {MAX_PATTERN} characters.")
    try:
        compiled = re.compile(pattern, re.IGNORECASE)
    except re.error as error:
        raise ChatError("invalid_rule", f"Invalid regular expression: {error}.") from None
    if _BACKREFERENCE.search(pattern):
        raise ChatError("invalid_rule", "Back-references are not allowed in rules.")
    problem = _catastrophic_shape(pattern)
    if problem:
        raise ChatError("invalid_rule", f"The pattern could backtrack catastrophically: {problem}.")
    if not probe:
        return compiled
    for text in _PROBES:
        # CPU time of this thread, not wall time: other processes sharing the cores do not count.
        started = time.thread_time()
        compiled.search(text)
        if time.thread_time() - started > PROBE_BUDGET_S:
            raise ChatError("invalid_rule", "The pattern is too slow on long text.")
    return compiled


def find_spans(compiled: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    """``[start, end)`` of every match in ``text``, scanning overlapping windows of bounded length."""
    if len(text) <= WINDOW:
        return [m.span() for m in compiled.finditer(text) if m.end() > m.start()]
    spans: set[tuple[int, int]] = set()
    start = 0
    while start < len(text):
        window = text[start : start + WINDOW]
        spans.update((start + m.start(), start + m.end()) for m in compiled.finditer(window) if m.end() > m.start())
        start += WINDOW - OVERLAP
    return sorted(spans)


def _catastrophic_shape(pattern: str) -> str | None:
    """Why ``pattern``'s structure can backtrack exponentially, or ``None``.

    >>> _catastrophic_shape("(a+)+b")
    'a repeat inside a repeat'
    >>> _catastrophic_shape("(ab|cd)+") is None
    False
    >>> _catastrophic_shape("colou?r") is None
    True
    """
    stack = [_Group()]
    closed: _Group | None = None  # the group that just ended, if the next token quantifies it
    after_quantifier = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        repeats, unbounded, width = _quantifier_at(pattern, i)
        if width:
            if after_quantifier and char in "?+" and width == 1:
                # ``a+?`` (lazy) or ``a++`` (possessive) modify the previous quantifier.
                after_quantifier = False
                i += 1
                continue
            if closed is not None and repeats:
                if closed.repeats_inside:
                    return "a repeat inside a repeat"
                if closed.alternates and unbounded:
                    return "a repeated alternation"
            if repeats:
                stack[-1].repeats_inside = True
            closed, after_quantifier = None, True
            i += width
            continue
        after_quantifier = False
        closed = None
        if char == "\\":
            i += 2
            continue
        if char == "[":
            i = _end_of_class(pattern, i)
            continue
        if char == "(":
            group = _Group()
            stack[-1].children.append(group)
            stack.append(group)
        elif char == ")" and len(stack) > 1:
            closed = stack.pop()
            stack[-1].repeats_inside |= closed.repeats_inside
        elif char == "|":
            stack[-1].alternates = True
        i += 1
    return None


def _quantifier_at(pattern: str, i: int) -> tuple[bool, bool, int]:
    """At ``i``: (repeats more than once, unbounded, characters taken); width 0 if no quantifier."""
    char = pattern[i]
    if char in "*+":
        return True, True, 1
    if char == "?":
        return False, False, 1
    if char == "{":
        match = _BRACES.match(pattern, i)
        if match and (match.group(1) or match.group(3)):
            low, comma, high = match.groups()
            unbounded = bool(comma) and not high
            most = int(high or low or 0) if not unbounded else 0
            return unbounded or most > 1, unbounded, match.end() - i
    return False, False, 0


def _end_of_class(pattern: str, i: int) -> int:
    """The index after the character class that opens at ``i``."""
    j = i + 1
    if j < len(pattern) and pattern[j] == "^":
        j += 1
    if j < len(pattern) and pattern[j] == "]":
        j += 1
    while j < len(pattern) and pattern[j] != "]":
        j += 2 if pattern[j] == "\\" else 1
    return j + 1
