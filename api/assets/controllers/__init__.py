"""The asset endpoints."""

from api.assets.controllers.assets import AssetController

__all__ = ["AssetController"]
