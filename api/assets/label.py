"""The printable label of an asset: a QR code holding the asset's address in the browser client."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import segno

if TYPE_CHECKING:
    from uuid import UUID

    from api.assets.schemas import LabelFormat

MEDIA_TYPES: dict[str, str] = {"svg": "image/svg+xml", "png": "image/png"}


def asset_link(public_url: str, asset_id: UUID) -> str:
    """Where the client shows the asset.

    Example: ``asset_link("https://hub.example/", id)`` gives ``https://hub.example/#/assets/<id>``.
    """
    return f"{public_url.rstrip('/')}/#/assets/{asset_id}"


def qr_label(link: str, *, kind: LabelFormat, scale: int = 8) -> bytes:
    """``link`` as a QR code image (medium error correction, the standard 4-module quiet zone).

    Args:
        link: what a phone opens when it scans the label.
        kind: ``svg`` (prints sharp at any size) or ``png``.
        scale: pixels (SVG units) per module.
    """
    code = segno.make(link, error="m", micro=False)
    out = io.BytesIO()
    code.save(out, kind=kind, scale=scale, border=4)
    return out.getvalue()
