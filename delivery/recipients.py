"""Who a notification reaches: users, holders of a role, members of a department and its subtree, the people
currently assigned to a workplace, the members of a conversation, minus exclusions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

import msgspec
from sqlalchemy import select

from delivery.errors import NotifyError
from persistence.models import (
    Conversation,
    ConversationMember,
    Department,
    Role,
    User,
    UserRole,
    Workplace,
    WorkplaceAssignment,
)

if TYPE_CHECKING:
    from sqlalchemy import Row
    from sqlalchemy.ext.asyncio import AsyncSession

MAX_EXPLICIT = 10_000
_COLUMNS = (User.id, User.email, User.name, User.timezone, User.locale, User.status)
"""What is read of a recipient: routing's and the templates' needs, and whether they are active."""


class Recipients(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Whom to notify: the union of ``users``, holders of ``roles``, members of ``departments`` (with
    sub-departments), people currently assigned to ``workplaces`` and members of ``conversations``,
    minus ``exclude``."""

    users: list[UUID] = msgspec.field(default_factory=list)
    roles: list[str] = msgspec.field(default_factory=list)
    departments: list[UUID] = msgspec.field(default_factory=list)
    workplaces: list[UUID] = msgspec.field(default_factory=list)
    conversations: list[UUID] = msgspec.field(default_factory=list)
    exclude: list[UUID] = msgspec.field(default_factory=list)


class Recipient(msgspec.Struct, frozen=True, kw_only=True):
    """An active user of the tenant, with what routing and templates need."""

    id: UUID
    email: str
    name: str
    timezone: str
    locale: str


async def resolve_recipients(session: AsyncSession, recipients: Recipients) -> list[Recipient]:
    """Active users named by ``recipients``, each once, ordered by id. Runs as the caller's tenant.

    Raises:
        NotifyError: ``unknown_recipients`` naming the user ids, role names, department, workplace or
            conversation ids that are not in the tenant; ``too_many_recipients`` beyond 10,000 explicit ids.
    """
    named = (
        len(recipients.users)
        + len(recipients.departments)
        + len(recipients.roles)
        + len(recipients.workplaces)
        + len(recipients.conversations)
    )
    if named > MAX_EXPLICIT:
        raise NotifyError("too_many_recipients", f"At most {MAX_EXPLICIT} users, roles and groups per call.")
    ids: set[UUID] = set()
    # Users read already, by id: the named ones are checked and read in one statement.
    read: dict[UUID, Row[Any]] = {}
    unknown: dict[str, list[str]] = {}
    if recipients.users:
        wanted = set(recipients.users)
        read = {row.id: row for row in await session.execute(select(*_COLUMNS).where(User.id.in_(wanted)))}
        if wanted - read.keys():
            unknown["users"] = sorted(str(u) for u in wanted - read.keys())
        ids |= read.keys()
    if recipients.roles:
        names = set(recipients.roles)
        roles = dict((await session.execute(select(Role.name, Role.id).where(Role.name.in_(names)))).tuples().all())
        if names - roles.keys():
            unknown["roles"] = sorted(names - roles.keys())
        holders = await session.scalars(select(UserRole.user_id).where(UserRole.role_id.in_(roles.values())))
        ids |= set(holders.all())
    if recipients.departments:
        wanted = set(recipients.departments)
        found = set((await session.scalars(select(Department.id).where(Department.id.in_(wanted)))).all())
        if wanted - found:
            unknown["departments"] = sorted(str(d) for d in wanted - found)
        if found:
            tree = select(Department.id).where(Department.id.in_(found)).cte("subtree", recursive=True)
            tree = tree.union(select(Department.id).join(tree, Department.parent_id == tree.c.id))
            members = await session.scalars(select(User.id).where(User.department_id.in_(select(tree.c.id))))
            ids |= set(members.all())
    if recipients.workplaces:
        wanted = set(recipients.workplaces)
        found = set((await session.scalars(select(Workplace.id).where(Workplace.id.in_(wanted)))).all())
        if wanted - found:
            unknown["workplaces"] = sorted(str(w) for w in wanted - found)
        assigned = await session.scalars(
            select(WorkplaceAssignment.user_id).where(
                WorkplaceAssignment.workplace_id.in_(found), WorkplaceAssignment.ended_at.is_(None)
            )
        )
        ids |= set(assigned.all())
    if recipients.conversations:
        wanted = set(recipients.conversations)
        found = set((await session.scalars(select(Conversation.id).where(Conversation.id.in_(wanted)))).all())
        if wanted - found:
            unknown["conversations"] = sorted(str(c) for c in wanted - found)
        members = await session.scalars(
            select(ConversationMember.user_id).where(ConversationMember.conversation_id.in_(found))
        )
        ids |= set(members.all())
    if unknown:
        raise NotifyError("unknown_recipients", "Some recipients do not exist in this tenant.", details=unknown)
    ids -= set(recipients.exclude)
    unread = ids - read.keys()
    if unread:
        read.update((row.id, row) for row in await session.execute(select(*_COLUMNS).where(User.id.in_(unread))))
    # UUIDs sort as PostgreSQL orders them (by their bytes).
    people = [read[i] for i in sorted(ids) if i in read]
    return [
        Recipient(id=row.id, email=row.email, name=row.name, timezone=row.timezone, locale=row.locale)
        for row in people
        if row.status == "active"
    ]
