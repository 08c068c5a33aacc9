"""The audit trail's hash chain: how an entry is hashed, how entries join their tenant's chain, and how a chain is verified.

A request's transaction inserts its audit entries **unlinked** (``seq``, ``prev_hash`` and ``hash``
NULL) and takes no chain lock. A **linker** joins committed unlinked entries to the chain in short
transactions of its own (:func:`link_pending`): it reads the tenant's head (``audit_chain``, one row
per tenant: last ``seq`` and ``hash``) and its unlinked entries in ``id`` order (uuid7, so roughly
the order they were written), hashes each as ``hash`` = SHA-256(``prev_hash`` || canonical encoding
of the entry), and hands the ids and hashes to ``fieldhub_audit_link``, a security-definer function
that locks the head, numbers the entries from it, chains each ``prev_hash`` to the hash before and
moves the head. The application role cannot write ``seq``, ``prev_hash``, ``hash`` or the head
otherwise, so it can neither rewrite nor fork a chain; a wrong hash passed to the function is caught
by verification like any hand edit. Verification covers the linked entries and counts the unlinked
ones as pending; the head also catches a deleted last entry.

**Pseudonymisation without breaking the chain.** The entry's personal fields (``ip``,
``user_agent``, ``details``) are not hashed directly: the chain hashes their *personal digest*
(SHA-256 over a random per-row salt and their canonical JSON), stored beside them. Erasing a
person rewrites those fields and drops the salt, so the old values can no longer be confirmed
by guessing, while every chained hash stays as it was. Such a row must name, in
``pseudonymised_by``, the later chained ``privacy.user_erased`` entry that did it, and that
entry counts the rows it pseudonymised; verification checks both, so a hand edit passed off as
an erasure is still caught. (A new chained entry recording the change was the alternative; it
would have had to keep the original hash over personal values, which is what erasure removes.)

**Retention** deletes a prefix of the linked chain only (``fieldhub_audit_prune``); the chain row
keeps the last deleted ``seq`` and ``hash`` as the new base, so a row deleted by hand at the start
is still caught. Anyone able to rewrite every row and the head can forge a consistent chain: the
chain detects edits, deletions and insertions by hand, not a complete rewrite; nor does it protect
an entry before it is linked (normally well under a second after its commit).
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final
from uuid import UUID

import msgspec
from sqlalchemy import text

if TYPE_CHECKING:
    from collections.abc import Mapping

    from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = [
    "ERASURE_ACTION",
    "GENESIS",
    "STALE_PENDING",
    "ChainBreak",
    "ChainReport",
    "canonical_details",
    "entry_hash",
    "link_pending",
    "personal_digest",
    "render_report",
    "sealed_personal",
    "verify_chains",
    "verify_tenant",
]

GENESIS: Final = bytes(32)
"""The ``prev_hash`` of a tenant's first entry."""
ERASURE_ACTION: Final = "privacy.user_erased"
"""The chained entry that pseudonymises earlier entries (they point at its ``seq``)."""
STALE_PENDING: Final = timedelta(minutes=5)
"""An entry unlinked for longer was most likely left by a process that died between commit and linking."""
LINK_BATCH: Final = 5000
"""Entries linked per call of ``fieldhub_audit_link`` (a backlog is linked in several, one transaction)."""


def canonical_details(details: Mapping[str, Any] | None) -> str:
    """``details`` as sorted, compact JSON: the same text before it is stored and after it is read back.

    >>> canonical_details({"b": 1, "a": "é"})
    '{"a":"é","b":1}'
    """
    return json.dumps(details or {}, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def personal_digest(salt: bytes, *, ip: str | None, user_agent: str | None, details: Mapping[str, Any] | None) -> bytes:
    """SHA-256 over the salt and the entry's personal fields."""
    encoded = json.dumps([ip or "", user_agent or "", canonical_details(details)], ensure_ascii=False)
    return hashlib.sha256(salt + encoded.encode()).digest()


def sealed_personal(
    details: Mapping[str, Any] | None, *, ip: str | None, user_agent: str | None
) -> tuple[dict[str, Any], bytes, bytes]:
    """What a new entry stores of its personal fields: ``details`` as the digest covers them (what is read
    back is what was hashed), a fresh salt, and the digest."""
    stored: dict[str, Any] = json.loads(canonical_details(details))
    salt = os.urandom(16)
    return stored, salt, personal_digest(salt, ip=ip, user_agent=user_agent, details=stored)


def entry_hash(prev_hash: bytes, row: Mapping[Any, Any]) -> bytes:
    """The chained hash of one entry (``row`` holds the columns of ``audit_event`` by name)."""
    occurred: datetime = row["occurred_at"]
    fields = [
        "fieldhub-audit-v1",
        str(row["tenant_id"]),
        str(row["seq"]),
        str(row["id"]),
        occurred.astimezone(UTC).isoformat(timespec="microseconds"),
        str(row["actor_user_id"] or ""),
        row["action"],
        row["outcome"],
        row["target_type"] or "",
        row["target_id"] or "",
        row["request_id"] or "",
        bytes(row["personal_digest"]).hex(),
    ]
    return hashlib.sha256(prev_hash + json.dumps(fields, ensure_ascii=False).encode()).digest()


# The head and the unlinked entries from one snapshot, in one round trip (no entries: no row, no head).
_UNLINKED = text(
    "SELECT c.head_seq, c.head_hash, e.id, e.tenant_id, e.occurred_at, e.actor_user_id, e.action, e.outcome,"
    " e.target_type, e.target_id, e.request_id, e.personal_digest"
    " FROM audit_event AS e LEFT JOIN audit_chain AS c ON c.tenant_id = e.tenant_id"
    " WHERE e.tenant_id = :t AND e.seq IS NULL ORDER BY e.id LIMIT :limit"
)
_LINK = text("SELECT fieldhub_audit_link(:head_seq, CAST(:ids AS uuid[]), CAST(:hashes AS bytea[]))")


async def link_pending(connection: AsyncConnection, tenant_id: UUID) -> int:
    """Link every unlinked entry ``connection`` sees of ``tenant_id`` (the current transaction's own included).

    ``connection`` runs as the tenant (``fieldhub_current_tenant()``), inside a transaction that then
    holds the tenant's chain head locked until it ends: only linkers wait for it, never writers.

    Returns:
        How many entries were linked.
    """
    linked = 0
    while True:
        batch = await _link_batch(connection, tenant_id)
        linked += batch
        if batch < LINK_BATCH:
            return linked


async def _link_batch(connection: AsyncConnection, tenant_id: UUID) -> int:
    # Read without the lock, link under it: the function returns NULL when another linker moved the
    # head since, and then holds the lock, so the second reading cannot be overtaken.
    for _ in range(2):
        rows = (await connection.execute(_UNLINKED, {"t": tenant_id, "limit": LINK_BATCH})).mappings().all()
        if not rows:
            return 0
        head_seq = rows[0]["head_seq"] or 0
        prev_hash = bytes(rows[0]["head_hash"]) if head_seq else GENESIS
        hashes: list[bytes] = []
        for seq, row in enumerate(rows, start=head_seq + 1):
            prev_hash = entry_hash(prev_hash, {**row, "seq": seq})
            hashes.append(prev_hash)
        ids = [row["id"] for row in rows]
        moved = await connection.scalar(_LINK, {"head_seq": head_seq, "ids": ids, "hashes": hashes})
        if moved is not None:
            return len(rows)
    raise RuntimeError("fieldhub_audit_link refused a reading taken under its own lock")


class ChainBreak(msgspec.Struct, frozen=True, kw_only=True):
    """The first entry at which a tenant's chain does not hold, and why."""

    seq: int
    entry_id: UUID | None
    reason: str


class ChainReport(msgspec.Struct, frozen=True, kw_only=True):
    """A verified chain: how many linked entries were checked, the first break (``None``: intact), and
    how many committed entries are not linked yet (``pending``; the oldest written at ``oldest_pending``)."""

    tenant_id: UUID
    entries: int
    first_seq: int
    head_seq: int
    broken: ChainBreak | None = None
    pending: int = 0
    oldest_pending: datetime | None = None

    @property
    def intact(self) -> bool:
        return self.broken is None


async def verify_tenant(connection: AsyncConnection, tenant_id: UUID) -> ChainReport:
    """Walk one tenant's chain from its base to its head and report the first entry that does not hold.

    ``connection`` must see every row of the tenant (the owner, or the app role as that tenant).
    Linked rows are streamed in ``seq`` order, so any length of chain is walked in constant memory;
    unlinked ones are only counted (they are no break: a linker has yet to reach them). Given outside
    a transaction, ``connection`` reads in one snapshot (see :func:`_one_snapshot`).
    """
    await _one_snapshot(connection)
    head = (
        await connection.execute(
            text("SELECT head_seq, head_hash, base_seq, base_hash FROM audit_chain WHERE tenant_id = :t"),
            {"t": tenant_id},
        )
    ).one_or_none()
    head_seq, head_hash, base_seq, base_hash = head if head is not None else (0, GENESIS, 0, GENESIS)
    expected_seq, prev_hash, count = base_seq + 1, bytes(base_hash), 0
    pseudonymised: dict[int, int] = {}
    erasures: dict[int, tuple[int, int]] = {}
    pending, oldest_pending = (
        await connection.execute(
            text("SELECT count(*), min(occurred_at) FROM audit_event WHERE tenant_id = :t AND seq IS NULL"),
            {"t": tenant_id},
        )
    ).one()

    def report(broken: ChainBreak | None) -> ChainReport:
        return ChainReport(
            tenant_id=tenant_id,
            entries=count,
            first_seq=base_seq + 1,
            head_seq=head_seq,
            broken=broken,
            pending=pending,
            oldest_pending=oldest_pending,
        )

    rows = await connection.stream(
        text("SELECT * FROM audit_event WHERE tenant_id = :t AND seq IS NOT NULL ORDER BY seq"), {"t": tenant_id}
    )
    async for row in rows.mappings():
        seq: int = row["seq"]
        if seq < expected_seq:
            return report(ChainBreak(seq=seq, entry_id=row["id"], reason="entry before the chain's base (inserted)"))
        if seq > expected_seq:
            reason = f"entries {expected_seq}..{seq - 1} are missing (deleted)"
            return report(ChainBreak(seq=expected_seq, entry_id=None, reason=reason))
        if bytes(row["prev_hash"]) != prev_hash:
            return report(ChainBreak(seq=seq, entry_id=row["id"], reason="previous hash does not match (inserted)"))
        if entry_hash(prev_hash, row) != bytes(row["hash"]):
            return report(ChainBreak(seq=seq, entry_id=row["id"], reason="hash does not match the entry (edited)"))
        broken = _personal_fields_break(row)
        if broken is not None:
            return report(broken)
        if row["pseudonymised_by"] is not None:
            pseudonymised[seq] = row["pseudonymised_by"]
        if row["action"] == ERASURE_ACTION:
            details = _details(row)
            erasures[seq] = (int(details.get("audit_entries", 0)), int(details.get("first_audit_seq", 0)))
        prev_hash, expected_seq, count = bytes(row["hash"]), seq + 1, count + 1
    if expected_seq - 1 != head_seq or prev_hash != bytes(head_hash):
        reason = f"the chain ends at {expected_seq - 1} but its head is {head_seq} (entries after it deleted or added)"
        return report(ChainBreak(seq=min(expected_seq, head_seq + 1), entry_id=None, reason=reason))
    return report(_pseudonymisation_break(pseudonymised, erasures, base_seq=base_seq))


def _details(row: Mapping[Any, Any]) -> dict[str, Any]:
    details = row["details"]
    # A textual query gets jsonb as text from asyncpg; a typed one as a dict.
    return dict(json.loads(details) if isinstance(details, str) else details or {})


def _personal_fields_break(row: Mapping[Any, Any]) -> ChainBreak | None:
    salt = row["personal_salt"]
    if salt is None:
        if row["pseudonymised_by"] is None or row["pseudonymised_by"] <= row["seq"]:
            return ChainBreak(seq=row["seq"], entry_id=row["id"], reason="personal fields erased without an erasure")
        return None
    digest = personal_digest(bytes(salt), ip=row["ip"], user_agent=row["user_agent"], details=_details(row))
    if digest != bytes(row["personal_digest"]):
        return ChainBreak(seq=row["seq"], entry_id=row["id"], reason="personal fields do not match (edited)")
    return None


def _pseudonymisation_break(
    pseudonymised: dict[int, int], erasures: dict[int, tuple[int, int]], *, base_seq: int
) -> ChainBreak | None:
    """Every pseudonymised entry names a chained erasure, which counts the entries naming it.

    Retention may since have deleted the oldest of them: the count is then an upper bound.
    """
    counted: dict[int, int] = {}
    for seq, erasure in sorted(pseudonymised.items()):
        if erasure not in erasures:
            return ChainBreak(seq=seq, entry_id=None, reason=f"pseudonymised by {erasure}, which is no erasure")
        counted[erasure] = counted.get(erasure, 0) + 1
    for erasure, (expected, first_seq) in sorted(erasures.items()):
        found = counted.get(erasure, 0)
        pruned = expected and first_seq <= base_seq
        if found > expected or (found != expected and not pruned):
            reason = f"the erasure pseudonymised {expected} entries, {found} name it"
            return ChainBreak(seq=erasure, entry_id=None, reason=reason)
    return None


async def verify_chains(connection: AsyncConnection, *, slug: str | None = None) -> list[tuple[str, ChainReport]]:
    """Verify every tenant's chain (or the tenant ``slug``'s) as the owner; ``(slug, report)`` by slug.

    Raises:
        LookupError: ``slug`` names no tenant.
    """
    await _one_snapshot(connection)
    query = text("SELECT id, slug FROM tenant WHERE CAST(:slug AS text) IS NULL OR slug = :slug ORDER BY slug")
    tenants = (await connection.execute(query, {"slug": slug})).all()
    if slug and not tenants:
        raise LookupError(f"no tenant with slug {slug!r}")
    return [(tenant_slug, await verify_tenant(connection, tenant_id)) for tenant_id, tenant_slug in tenants]


async def _one_snapshot(connection: AsyncConnection) -> None:
    """Read the head and the entries in one snapshot (``REPEATABLE READ``) when no transaction is open
    yet: read one after the other at ``READ COMMITTED``, a linker committing in between looked like
    entries added after the head."""
    if not connection.in_transaction():
        await connection.execution_options(isolation_level="REPEATABLE READ")


def render_report(slug: str, report: ChainReport, *, now: datetime | None = None) -> str:
    """One line per tenant, e.g. ``acme: intact, 42 entries (1..42), 3 pending``, and a second line when an
    entry has waited longer than :data:`STALE_PENDING` to be linked."""
    if report.broken is None:
        line = f"{slug}: intact, {report.entries} entries ({report.first_seq}..{report.head_seq})"
    else:
        entry = f" (id {report.broken.entry_id})" if report.broken.entry_id else ""
        line = f"{slug}: BROKEN at entry {report.broken.seq}{entry}: {report.broken.reason}"
    if report.pending:
        line += f", {report.pending} pending" if report.broken is None else f" ({report.pending} pending)"
    oldest = report.oldest_pending
    if oldest is not None and (now or datetime.now(UTC)) - oldest > STALE_PENDING:
        since = oldest.astimezone(UTC).isoformat(timespec="seconds")
        line += f"\n{slug}: entries unlinked since {since}; `fieldhub worker` links them (is it running?)"
    return line
