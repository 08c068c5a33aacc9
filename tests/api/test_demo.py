"""``fieldhub demo``: a demo tenant whose admin can sign in, created once."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.demo import DEMO_PASSWORD, seed_demo
from api.runtime import Runtime


async def test_demo_admin_signs_in_and_a_second_seed_with_once_does_nothing(
    client: AsyncTestClient[Litestar], runtime: Runtime
) -> None:
    logins = await seed_demo(runtime.db, once=True)
    assert logins is not None
    assert {login.role for login in logins} == {"admin", "moderator", "supervisor", "staff"}
    assert await seed_demo(runtime.db, once=True) is None
    admin = next(login for login in logins if login.role == "admin")
    response = await client.post("/api/v1/auth/login", json={"email": admin.email, "password": DEMO_PASSWORD})
    assert response.status_code == 200
    me = await client.get("/api/v1/auth/me")
    assert "users:write" in me.json()["permissions"]


async def test_the_demo_opens_on_channels_with_messages(client: AsyncTestClient[Litestar], runtime: Runtime) -> None:
    await seed_demo(runtime.db, once=True)
    response = await client.post(
        "/api/v1/auth/login", json={"email": "ana@demo.fieldhub.local", "password": DEMO_PASSWORD}
    )
    assert response.status_code == 200
    listed = (await client.get("/api/v1/conversations")).json()
    names = {c["conversation"]["name"] for c in listed}
    assert {"general", "store-visits"} <= names
    visits = next(c for c in listed if c["conversation"]["name"] == "store-visits")
    # Ana answered the supervisor's mention, which read it; Ben's update came after.
    assert (visits["unread"], visits["mentions"]) == (1, 0)
