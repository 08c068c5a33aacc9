"""Send-path cost of a tenant's rules: 200 active rules (words, phrases, regexes, domains, counts)
evaluated against realistic messages; prints p50/p99 microseconds per message, as wall time and as
this thread's CPU time (the latter is what the rules cost even when other processes share the cores).

Run: ``.venv/bin/python -m bench.moderation_rules``. Measures the in-memory evaluation and masking
(compiled once, as the cache does); the send path adds two indexed reads (rules version, mutes).
"""

from __future__ import annotations

import random
import statistics
import time
from uuid import uuid4

from channels.moderation.rules import CompiledRules, RuleSpec, Sample, mask
from channels.text import find_links, parse_mentions

WORDS = [
    "store",
    "shelf",
    "visit",
    "price",
    "stock",
    "promo",
    "display",
    "aisle",
    "manager",
    "shift",
    "photo",
    "report",
    "task",
    "client",
    "order",
]


def two_hundred_rules(rng: random.Random) -> list[RuleSpec]:
    rules: list[RuleSpec] = []
    for i in range(120):
        terms = (*tuple(f"{rng.choice(WORDS)}{i}x{j}" for j in range(5)), f"bad phrase {i}")
        rules.append(RuleSpec(id=uuid4(), name=f"w{i}", kind="words", action=rng.choice(["flag", "mask"]), terms=terms))
    for i in range(50):
        pattern = rng.choice(
            [rf"\bcode{i}-\d{{4}}\b", rf"free\s+money{i}", rf"\b{i}\d{{2}}-\d{{3}}-\d{{4}}\b", rf"win{i}[a-z]{{3}}!"]
        )
        rules.append(RuleSpec(id=uuid4(), name=f"r{i}", kind="regex", action="flag", pattern=pattern))
    for i in range(25):
        rules.append(RuleSpec(id=uuid4(), name=f"d{i}", kind="link_domain", action="hold", terms=(f"spam{i}.example",)))
    for i, kind in enumerate(["mentions", "repeat", "burst", "new_account_links", "mentions"]):
        rules.append(RuleSpec(id=uuid4(), name=f"c{i}", kind=kind, action="flag", threshold=5 + i))  # type: ignore[arg-type]
    return rules


def messages(rng: random.Random, count: int) -> list[str]:
    out = []
    for _ in range(count):
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 60)))
        if rng.random() < 0.1:
            text += " https://spam3.example/x"
        if rng.random() < 0.05:
            text += " bad phrase 7"
        out.append(text)
    out.append("x" * 4000)  # the longest message allowed
    return out


def main() -> None:
    rng = random.Random(7)
    engine = CompiledRules(two_hundred_rules(rng))
    samples = messages(rng, 5000)
    timings: list[float] = []
    cpu: list[float] = []
    for body in samples:
        started, started_cpu = time.perf_counter(), time.thread_time()
        mentions = parse_mentions(body)
        sample = Sample(body=body, links=find_links(body), mention_count=len(mentions.users))
        hits = engine.evaluate(sample)
        mask(body, hits)
        timings.append((time.perf_counter() - started) * 1e6)
        cpu.append((time.thread_time() - started_cpu) * 1e6)
    for label, values in (("wall", timings), ("cpu", cpu)):
        values.sort()
        p50 = statistics.median(values)
        p99 = values[int(len(values) * 0.99)]
        print(f"rules=200 messages={len(samples)} {label}: p50={p50:.1f}us p99={p99:.1f}us max={values[-1]:.1f}us")


if __name__ == "__main__":
    main()
