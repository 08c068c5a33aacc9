"""Asset rules: serials unique per tenant, assets at a workplace of the tenant, and every status or condition
change kept as a history row with who, when and why. Every write is audited in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from uuid import UUID

from advanced_alchemy.filters import OrderBy
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import func, select

from api.audit import Origin
from api.errors import AppError
from api.workplaces.base import AuditsTarget, FieldService, changes, equal_to, matching, require_row, utc_now
from persistence.models import Asset, AssetConditionEntry, Workplace

if TYPE_CHECKING:
    from api.assets.schemas import AssetCreate, AssetUpdate, ConditionChange
    from api.auth.principal import CurrentUser


class AssetService(FieldService[Asset], AuditsTarget):
    """The tenant's assets and their condition history."""

    audit_target = "asset"

    class Repo(SQLAlchemyAsyncRepository[Asset]):
        model_type = Asset

    repository_type = Repo

    async def page(
        self,
        *,
        limit: int,
        offset: int,
        workplace_id: UUID | None = None,
        status: str | None = None,
        type: str | None = None,
        search: str | None = None,
    ) -> tuple[Sequence[Asset], int]:
        """One page of assets by serial; ``search`` matches the serial or the model, case-insensitively."""
        filters: list[Any] = [
            *equal_to(workplace_id=workplace_id, status=status, type=type),
            *matching(search, {"serial", "model"}),
        ]
        return await self.page_of(filters, limit=limit, offset=offset, order=[OrderBy("serial"), OrderBy("id")])

    async def create_asset(self, data: AssetCreate, *, actor: CurrentUser, origin: Origin) -> Asset:
        """Add an asset and the first row of its history.

        Raises:
            AppError: ``not_found`` (404) for a workplace not in the tenant; ``serial_in_use`` (409).
        """
        await require_row(self.session, Workplace, data.workplace_id, "workplace_id")
        await self._check_serial(data.serial)
        asset = await self.create(
            Asset(
                tenant_id=actor.tenant_id,
                workplace_id=data.workplace_id,
                type=data.type,
                serial=data.serial,
                model=data.model,
                status=data.status,
                condition=data.condition,
            )
        )
        self._add_entry(asset, actor, data.note)
        self._audit(actor, origin, "asset.create", asset.id, {"serial": asset.serial, "status": asset.status})
        return asset

    async def update_asset(self, asset_id: UUID, data: AssetUpdate, *, actor: CurrentUser, origin: Origin) -> Asset:
        """Move or correct an asset; the same checks as on creation."""
        asset = await self.get_for_update(asset_id)
        fields = changes(data)
        if "workplace_id" in fields:
            await require_row(self.session, Workplace, fields["workplace_id"], "workplace_id")
        if fields.get("serial", asset.serial) != asset.serial:
            await self._check_serial(fields["serial"])
        changed = sorted(name for name, value in fields.items() if getattr(asset, name) != value)
        for name in changed:
            setattr(asset, name, fields[name])
        asset = await self.update(asset)
        if changed:
            self._audit(actor, origin, "asset.update", asset.id, {"fields": changed})
        return asset

    async def change_condition(
        self, asset_id: UUID, data: ConditionChange, *, actor: CurrentUser, origin: Origin
    ) -> Asset:
        """Set a new status or condition, kept in the history with its note.

        Raises:
            AppError: ``no_change`` (422) when neither the status nor the condition would change.
        """
        asset = await self.get_for_update(asset_id)
        wanted = changes(data)
        wanted.pop("note")
        changed = {name: value for name, value in wanted.items() if getattr(asset, name) != value}
        if not changed:
            raise AppError(
                "no_change",
                "Give a status or a condition different from the current one.",
                status_code=422,
                details={"status": asset.status, "condition": asset.condition},
            )
        previous = {"status": asset.status, "condition": asset.condition}
        for name, value in changed.items():
            setattr(asset, name, value)
        asset = await self.update(asset)
        self._add_entry(asset, actor, data.note)
        self._audit(actor, origin, "asset.condition", asset.id, {"from": previous, "to": changed, "note": data.note})
        return asset

    async def history(self, asset_id: UUID, *, limit: int, offset: int) -> tuple[Sequence[AssetConditionEntry], int]:
        """The asset's status and condition changes, oldest first."""
        await self.get(asset_id)
        condition = AssetConditionEntry.asset_id == asset_id
        total = await self.session.scalar(select(func.count()).select_from(AssetConditionEntry).where(condition))
        rows = await self.session.scalars(
            select(AssetConditionEntry)
            .where(condition)
            .order_by(AssetConditionEntry.changed_at, AssetConditionEntry.id)
            .limit(limit)
            .offset(offset)
        )
        return rows.all(), total or 0

    async def _check_serial(self, serial: str) -> None:
        taken = await self.session.scalar(select(Asset.id).where(Asset.serial == serial))
        if taken is not None:
            raise AppError(
                "serial_in_use",
                "Another asset of the tenant has this serial.",
                status_code=409,
                details={"asset_id": str(taken)},
            )

    def _add_entry(self, asset: Asset, actor: CurrentUser, note: str) -> None:
        self.session.add(
            AssetConditionEntry(
                tenant_id=actor.tenant_id,
                asset_id=asset.id,
                status=asset.status,
                condition=asset.condition,
                note=note,
                changed_by=actor.id,
                changed_at=utc_now(),
            )
        )
