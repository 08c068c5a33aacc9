"""Arranging report data: the tenant's time zone, rows written straight to the database, and reading a report."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from sqlalchemy import update

from persistence.models import Incident, Tenant
from tests.api.fieldops.fieldkit import Client
from tests.api.identity.arrange import Headers
from tests.kit import TenantKit

MARCH = {"from": "2026-03-01", "to": "2026-03-31"}


async def set_tenant_timezone(kit: TenantKit, zone: str) -> None:
    """Make ``zone`` the tenant's time zone (the day boundaries of its reports)."""
    async with kit.runtime.db.transaction(tenant_id=kit.id) as session:
        await session.execute(update(Tenant).where(Tenant.id == kit.id).values(settings={"timezone": zone}))


async def add(kit: TenantKit, *rows: Any) -> None:
    """Write ``rows`` (models of the kit's tenant) in one transaction."""
    async with kit.runtime.db.transaction(tenant_id=kit.id) as session:
        session.add_all(rows)


def incident(kit: TenantKit, kind: str, *, at: datetime, severity: str = "low", status: str = "open") -> Incident:
    """An incident of the kit's tenant (to :func:`add`), reported ``at``."""
    return Incident(tenant_id=kit.id, type=kind, severity=severity, description="-", status=status, occurred_at=at)


async def report(client: Client, headers: Headers, template: str, **params: str) -> dict[str, Any]:
    """The report as JSON (asserting success)."""
    response = await client.get(f"/api/v1/reports/{template}", params=params or MARCH, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def rows_by(body: dict[str, Any], *keys: str) -> dict[Any, dict[str, Any]]:
    """The report's rows by the value of ``keys`` (one key: its value; several: a tuple)."""
    return {(row[keys[0]] if len(keys) == 1 else tuple(row[k] for k in keys)): row for row in body["rows"]}


def parse_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))
