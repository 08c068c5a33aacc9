"""Assets: list and search (by workplace, status, type, serial), read, add, change, record their condition,
read their history, and print their QR label."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, Response, get, patch, post
from litestar.params import JSONBody, QueryParameter

from api.assets import deps
from api.assets.deps import AssetId, AssetsDep
from api.assets.label import MEDIA_TYPES, asset_link, qr_label
from api.assets.schemas import (
    AssetCreate,
    AssetResponse,
    AssetStatus,
    AssetUpdate,
    ConditionChange,
    ConditionEntryResponse,
    LabelFormat,
    asset_response,
    condition_entry_response,
)
from api.auth.guards import requires
from api.auth.permissions import Permission
from api.chat.uploads import SAFE_HEADERS, content_disposition
from api.deps import CallerDep, Limit, Offset, OriginDep, RuntimeDep, Search
from api.schemas import Page


class AssetController(Controller):
    path = "/api/v1/assets"
    tags = ["assets"]
    dependencies = {"assets": deps.assets}

    @get("/", operation_id="ListAssets", guards=[requires(Permission.ASSETS_READ)])
    async def list_assets(
        self,
        assets: AssetsDep,
        workplace_id: Annotated[UUID | None, QueryParameter(description="Only assets at this workplace.")] = None,
        status: Annotated[AssetStatus | None, QueryParameter(description="Only assets in this status.")] = None,
        type: Annotated[str | None, QueryParameter(max_length=50, description="Only assets of this type.")] = None,
        q: Search = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[AssetResponse]:
        """Assets by serial; ``q`` matches the serial or the model, case-insensitively."""
        rows, total = await assets.page(
            limit=limit, offset=offset, workplace_id=workplace_id, status=status, type=type, search=q
        )
        return Page(items=[asset_response(a) for a in rows], total=total, limit=limit, offset=offset)

    @get("/{asset_id:uuid}", operation_id="GetAsset", guards=[requires(Permission.ASSETS_READ)])
    async def get_asset(self, assets: AssetsDep, asset_id: AssetId) -> AssetResponse:
        """One asset (``404 not_found``)."""
        return asset_response(await assets.get(asset_id))

    @post("/", operation_id="CreateAsset", status_code=201, guards=[requires(Permission.ASSETS_WRITE)])
    async def create_asset(
        self, data: JSONBody[AssetCreate], assets: AssetsDep, current_user: CallerDep, origin: OriginDep
    ) -> AssetResponse:
        """Add an asset at a workplace (``409 serial_in_use``, ``404 not_found`` for a workplace not in the tenant)."""
        return asset_response(await assets.create_asset(data, actor=current_user, origin=origin))

    @patch("/{asset_id:uuid}", operation_id="UpdateAsset", guards=[requires(Permission.ASSETS_WRITE)])
    async def update_asset(
        self,
        asset_id: AssetId,
        data: JSONBody[AssetUpdate],
        assets: AssetsDep,
        current_user: CallerDep,
        origin: OriginDep,
    ) -> AssetResponse:
        """Move an asset or correct its type, serial or model; the same errors as on creation."""
        return asset_response(await assets.update_asset(asset_id, data, actor=current_user, origin=origin))

    @post(
        "/{asset_id:uuid}/condition",
        operation_id="ChangeAssetCondition",
        status_code=200,
        guards=[requires(Permission.ASSETS_WRITE)],
    )
    async def change_condition(
        self,
        asset_id: AssetId,
        data: JSONBody[ConditionChange],
        assets: AssetsDep,
        current_user: CallerDep,
        origin: OriginDep,
    ) -> AssetResponse:
        """Record a new status (in service, faulty, retired) or condition with a note, kept in the history
        (``422 no_change`` when neither differs from the current one)."""
        return asset_response(await assets.change_condition(asset_id, data, actor=current_user, origin=origin))

    @get("/{asset_id:uuid}/history", operation_id="ListAssetHistory", guards=[requires(Permission.ASSETS_READ)])
    async def history(
        self, assets: AssetsDep, asset_id: AssetId, limit: Limit = 50, offset: Offset = 0
    ) -> Page[ConditionEntryResponse]:
        """The asset's status and condition changes, oldest first, each with who, when and why."""
        rows, total = await assets.history(asset_id, limit=limit, offset=offset)
        return Page(items=[condition_entry_response(e) for e in rows], total=total, limit=limit, offset=offset)

    @get(
        "/{asset_id:uuid}/label",
        operation_id="GetAssetLabel",
        guards=[requires(Permission.ASSETS_READ)],
        media_type="image/svg+xml",
    )
    async def label(
        self,
        assets: AssetsDep,
        runtime: RuntimeDep,
        asset_id: AssetId,
        format: Annotated[LabelFormat, QueryParameter(description="svg (default) or png.")] = "svg",
    ) -> Response[bytes]:
        """A printable QR code that opens the asset in the client (``{public_url}/#/assets/{id}``)."""
        asset = await assets.get(asset_id)
        image = qr_label(asset_link(runtime.settings.public_url, asset.id), kind=format)
        return Response(
            image,
            media_type=MEDIA_TYPES[format],
            headers={
                **SAFE_HEADERS,
                "Content-Disposition": content_disposition(f"asset-{asset.serial}.{format}", inline=True),
            },
        )
