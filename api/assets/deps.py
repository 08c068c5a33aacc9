"""Provider of the asset service, one per request, on the request's transaction."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar.di import NamedDependency
from litestar.params import PathParameter

from api.assets.services import AssetService
from api.deps import per_request

assets = per_request(AssetService)

AssetsDep = NamedDependency[AssetService]
"""The request's asset service (``assets`` parameter)."""

AssetId = Annotated[UUID, PathParameter(description="The asset's id.")]
