"""Great-circle distances on the mean Earth sphere, in Python and in SQL (the same formula in both)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from sqlalchemy import func

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement
    from sqlalchemy.orm import QueryableAttribute

EARTH_RADIUS_M = 6_371_008.8
"""The IUGG mean radius; haversine on it is within 0.5 % of the ellipsoid, plenty for a geofence."""


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Metres between two points given in degrees.

    >>> round(distance_m(48.8566, 2.3522, 48.8566, 2.3522 + 0.001))
    73
    """
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    half_dphi = math.radians(lat2 - lat1) / 2
    half_dlambda = math.radians(lon2 - lon1) / 2
    a = math.sin(half_dphi) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(half_dlambda) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, a)))


def distance_sql(
    latitude: QueryableAttribute[float], longitude: QueryableAttribute[float], lat: float, lon: float
) -> ColumnElement[float]:
    """The same haversine distance as :func:`distance_m`, as a SQL expression over two columns."""
    half_dphi = func.radians(latitude - lat) / 2
    half_dlambda = func.radians(longitude - lon) / 2
    a = func.power(func.sin(half_dphi), 2) + math.cos(math.radians(lat)) * func.cos(
        func.radians(latitude)
    ) * func.power(func.sin(half_dlambda), 2)
    distance: ColumnElement[float] = 2 * EARTH_RADIUS_M * func.asin(func.sqrt(func.least(1.0, a)))
    return distance
