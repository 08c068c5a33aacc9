"""Request and response bodies of the asset endpoints.

Status and condition change only through ``POST /api/v1/assets/{id}/condition``, so every change is
a history row with its note; update bodies use ``msgspec.UNSET`` for "leave as is".
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType

from api.schemas import RequestBody, ResponseBody
from persistence.models import Asset, AssetConditionEntry

AssetType = Annotated[str, msgspec.Meta(min_length=1, max_length=50, description="What it is: fridge, scanner.")]
Serial = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=100,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$",
        description="The maker's serial number, unique in the tenant.",
    ),
]
ModelName = Annotated[str, msgspec.Meta(max_length=200)]
Condition = Annotated[str, msgspec.Meta(max_length=100, description="Free words: good, worn, dented door.")]
Note = Annotated[str, msgspec.Meta(max_length=1000)]
AssetStatus = Literal["in_service", "faulty", "retired"]
LabelFormat = Literal["svg", "png"]


class AssetCreate(RequestBody):
    """A new asset at a workplace; its first history row records how it arrived."""

    workplace_id: UUID
    type: AssetType
    serial: Serial
    model: ModelName = ""
    status: AssetStatus = "in_service"
    condition: Condition = ""
    note: Note = ""


class AssetUpdate(RequestBody):
    """Move an asset to another workplace or correct its description."""

    workplace_id: UUID | UnsetType = UNSET
    type: AssetType | UnsetType = UNSET
    serial: Serial | UnsetType = UNSET
    model: ModelName | UnsetType = UNSET


class ConditionChange(RequestBody):
    """A new status, condition or both, with why; at least one must differ from the current one."""

    status: AssetStatus | UnsetType = UNSET
    condition: Condition | UnsetType = UNSET
    note: Note = ""


class AssetResponse(ResponseBody):
    id: UUID
    workplace_id: UUID
    type: str
    serial: str
    model: str
    status: str
    condition: str
    created_at: datetime
    updated_at: datetime


class ConditionEntryResponse(ResponseBody):
    id: UUID
    asset_id: UUID
    status: str
    condition: str
    note: str
    changed_at: datetime
    changed_by: UUID | None = None


def asset_response(asset: Asset) -> AssetResponse:
    return msgspec.convert(asset, AssetResponse, from_attributes=True)


def condition_entry_response(entry: AssetConditionEntry) -> ConditionEntryResponse:
    return msgspec.convert(entry, ConditionEntryResponse, from_attributes=True)
