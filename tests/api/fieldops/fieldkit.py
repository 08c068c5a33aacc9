"""Arranging field operations data through the API, for the workplace, attendance and task tests."""

from __future__ import annotations

import secrets
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.identity.arrange import Headers

Client = AsyncTestClient[Litestar]

# The Louvre's pyramid; 0.001 degree of latitude is about 111 m everywhere.
PARIS = (48.8611, 2.3358)
METRES_PER_DEGREE_LAT = 111_195.0


def north_of(point: tuple[float, float], metres: float) -> tuple[float, float]:
    """A point ``metres`` due north of ``point``."""
    return point[0] + metres / METRES_PER_DEGREE_LAT, point[1]


async def make_workplace(client: Client, headers: Headers, **fields: Any) -> dict[str, Any]:
    """A workplace created through the API (Paris, 100 m geofence unless told otherwise)."""
    body: dict[str, Any] = {
        "name": "Store",
        "code": f"S-{secrets.token_hex(3)}",
        "latitude": PARIS[0],
        "longitude": PARIS[1],
        "geofence_radius_m": 100,
        "timezone": "Europe/Paris",
    } | fields
    response = await client.post("/api/v1/workplaces", json=body, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def assign(client: Client, headers: Headers, workplace_id: str, user_id: Any, role: str = "staff") -> str:
    response = await client.post(
        f"/api/v1/workplaces/{workplace_id}/assignments",
        json={"user_id": str(user_id), "role": role},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    assignment_id: str = response.json()["id"]
    return assignment_id
