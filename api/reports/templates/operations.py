"""Reports on the work and the sites: task completion, incidents, maintenance SLA, chat activity, moderation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import DateTime, Float, Numeric, and_, cast, distinct, func, literal, or_, select

from api.reports.templates.base import Template
from persistence.models import (
    Conversation,
    Incident,
    MaintenanceRequest,
    Message,
    ModerationCase,
    Task,
    User,
    Workplace,
)

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement, Select
    from sqlalchemy.ext.asyncio import AsyncSession

    from api.reports.query import ReportQuery

__all__ = ["OPERATIONS_TEMPLATES"]

# Maintenance requests whose SLA clock never ran: withdrawn, refused, or still waiting for a cost approval.
OFF_THE_CLOCK = ("cancelled", "rejected", "pending_approval")


def _rate(part: ColumnElement[Any], whole: ColumnElement[Any]) -> ColumnElement[Any]:
    """``part / whole`` as a fraction rounded to thousandths; NULL when ``whole`` is 0."""
    return cast(func.round(cast(part, Numeric) / func.nullif(whole, 0), 3), Float)


async def task_completion(session: AsyncSession, query: ReportQuery) -> Select[Any]:
    """Per workplace and assignee, tasks created in the range: total, done, cancelled, open past due, the
    completion rate of those not cancelled, and the assignee's rank in the workplace by tasks done."""
    now = literal(query.now, DateTime(timezone=True))
    done = func.count().filter(Task.status == "done")
    cancelled = func.count().filter(Task.status == "cancelled")
    statement = (
        select(
            Task.workplace_id.label("workplace_id"),
            Workplace.name.label("workplace_name"),
            Task.assignee_id.label("assignee_id"),
            User.name.label("assignee_name"),
            func.count().label("tasks"),
            done.label("done"),
            cancelled.label("cancelled"),
            func.count().filter(Task.status.not_in(("done", "cancelled")), Task.due_at < now).label("overdue"),
            _rate(done, func.count() - cancelled).label("completion_rate"),
            func.rank().over(partition_by=Task.workplace_id, order_by=done.desc()).label("rank_in_workplace"),
        )
        .outerjoin(Workplace, Workplace.id == Task.workplace_id)
        .outerjoin(User, User.id == Task.assignee_id)
        .where(Task.created_at >= query.start, Task.created_at < query.end)
        .group_by(Task.workplace_id, Workplace.name, Task.assignee_id, User.name)
        .order_by(Workplace.name.nulls_last(), Task.workplace_id, User.name.nulls_last(), Task.assignee_id)
    )
    return query.narrow(statement, user=Task.assignee_id, workplace=Task.workplace_id)


async def incidents(session: AsyncSession, query: ReportQuery) -> Select[Any]:
    """Per type and severity, incidents that occurred in the range: how many, open, closed, and their share."""
    count = func.count()
    statement = (
        select(
            Incident.type.label("type"),
            Incident.severity.label("severity"),
            count.label("incidents"),
            count.filter(Incident.status != "closed").label("open"),
            count.filter(Incident.status == "closed").label("closed"),
            cast(func.round(cast(count, Numeric) * 100 / func.sum(count).over(), 1), Float).label("share_percent"),
        )
        .where(Incident.occurred_at >= query.start, Incident.occurred_at < query.end)
        .group_by(Incident.type, Incident.severity)
        .order_by(Incident.type, Incident.severity)
    )
    return query.narrow(statement, user=Incident.reported_by, workplace=Incident.workplace_id)


async def maintenance_sla(session: AsyncSession, query: ReportQuery) -> Select[Any]:
    """Per priority, requests raised in the range whose SLA clock runs (cancelled, rejected and those
    still waiting for a cost approval aside): met (resolved by the due time), breached (resolved late,
    or still unresolved past it), open within the SLA, and the rate met."""
    request = MaintenanceRequest
    now = literal(query.now, DateTime(timezone=True))
    resolved = func.coalesce(request.resolved_at, request.closed_at)
    met = func.count().filter(resolved <= request.due_at)
    breached = func.count().filter(or_(resolved > request.due_at, and_(resolved.is_(None), request.due_at < now)))
    statement = (
        select(
            request.priority.label("priority"),
            func.count().label("requests"),
            met.label("met"),
            breached.label("breached"),
            func.count().filter(resolved.is_(None), request.due_at >= now).label("open_within_sla"),
            _rate(met, met + breached).label("met_rate"),
        )
        .where(request.created_at >= query.start, request.created_at < query.end, request.status.not_in(OFF_THE_CLOCK))
        .group_by(request.priority)
        .order_by(request.priority)
    )
    return query.narrow(statement, user=request.assignee_id, workplace=request.workplace_id)


async def chat_activity(session: AsyncSession, query: ReportQuery) -> Select[Any]:
    """Per conversation, messages posted in the range (deleted ones aside): how many, by how many people,
    threads replies among them, and the last one's time."""
    statement = (
        select(
            Conversation.id.label("conversation_id"),
            Conversation.kind.label("kind"),
            Conversation.name.label("name"),
            func.count().label("messages"),
            func.count(distinct(Message.author_id)).label("authors"),
            func.count().filter(Message.thread_root_id.is_not(None)).label("replies"),
            func.max(Message.created_at).label("last_message_at"),
        )
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Message.created_at >= query.start, Message.created_at < query.end, Message.deleted_at.is_(None))
        .group_by(Conversation.id, Conversation.kind, Conversation.name)
        .order_by(func.count().desc(), Conversation.id)
    )
    return query.narrow(statement, user=Message.author_id, workplace=Conversation.workplace_id)


async def moderation(session: AsyncSession, query: ReportQuery) -> Select[Any]:
    """Per source and status, moderation cases opened in the range: how many, flags on them, held messages."""
    case = ModerationCase
    statement = (
        select(
            case.source.label("source"),
            case.status.label("status"),
            func.count().label("cases"),
            func.coalesce(func.sum(case.flag_count), 0).label("flags"),
            func.count().filter(case.held.is_(True)).label("held"),
        )
        .where(case.created_at >= query.start, case.created_at < query.end)
        .group_by(case.source, case.status)
        .order_by(case.source, case.status)
    )
    return query.narrow(statement, user=case.author_id)


OPERATIONS_TEMPLATES = (
    Template(
        key="task_completion",
        title="Task completion",
        description="Per workplace and assignee: tasks, done, cancelled, overdue, completion rate and rank.",
        filters=("department_id", "workplace_id", "user_id"),
        build=task_completion,
    ),
    Template(
        key="incidents",
        title="Incidents by type and severity",
        description="Per type and severity: incidents, open, closed and share of all.",
        filters=("department_id", "workplace_id", "user_id"),
        build=incidents,
    ),
    Template(
        key="maintenance_sla",
        title="Maintenance SLA",
        description="Per priority: requests, SLA met, breached, open within SLA and the rate met.",
        filters=("department_id", "workplace_id", "user_id"),
        build=maintenance_sla,
    ),
    Template(
        key="chat_activity",
        title="Chat activity",
        description="Per conversation: messages, authors, thread replies and the last message's time.",
        filters=("department_id", "workplace_id", "user_id"),
        build=chat_activity,
    ),
    Template(
        key="moderation",
        title="Moderation statistics",
        description="Per source and status: moderation cases, flags and held messages.",
        filters=("department_id", "user_id"),
        build=moderation,
    ),
)
