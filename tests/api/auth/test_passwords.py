"""Password reset by emailed single-use token, and password change."""

from __future__ import annotations

import re

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.kit import PASSWORD, TenantKit
from tests.mailbox import Inbox

NEW_PASSWORD = "a-brand-new-passphrase"

# Reset links are mailed by the delivery worker, from the job written with the reset token.
pytestmark = pytest.mark.usefixtures("worker")


async def _reset_token(client: AsyncTestClient[Litestar], tenant: TenantKit, inbox: Inbox, role: str) -> str:
    response = await client.post(
        "/api/v1/auth/password/forgot", json={"email": tenant.email(role), "tenant": tenant.slug}
    )
    assert response.status_code == 202
    message = await inbox.wait_for(tenant.email(role))
    found = re.search(r"token=(\S+)", message.get_payload(decode=True).decode())  # type: ignore[union-attr]
    assert found is not None
    return found.group(1)


async def test_forgot_password_for_an_unknown_email_answers_the_same(client: AsyncTestClient[Litestar]) -> None:
    response = await client.post("/api/v1/auth/password/forgot", json={"email": "ghost@nowhere.example"})
    assert response.status_code == 202
    assert response.content == b""


async def test_reset_sets_the_new_password_and_signs_out_everywhere(
    client: AsyncTestClient[Litestar], tenant: TenantKit, inbox: Inbox
) -> None:
    old_session = await tenant.headers(client, "staff")
    token = await _reset_token(client, tenant, inbox, "staff")
    reset = await client.post("/api/v1/auth/password/reset", json={"token": token, "password": NEW_PASSWORD})
    assert reset.status_code == 204
    assert (await client.get("/api/v1/auth/me", headers=old_session)).status_code == 401
    old = await client.post("/api/v1/auth/login", json={"email": tenant.email("staff"), "password": PASSWORD})
    assert old.status_code == 401
    new = await client.post("/api/v1/auth/login", json={"email": tenant.email("staff"), "password": NEW_PASSWORD})
    assert new.status_code == 200


async def test_a_reset_token_works_once(client: AsyncTestClient[Litestar], tenant: TenantKit, inbox: Inbox) -> None:
    token = await _reset_token(client, tenant, inbox, "supervisor")
    assert (
        await client.post("/api/v1/auth/password/reset", json={"token": token, "password": NEW_PASSWORD})
    ).status_code == 204
    again = await client.post("/api/v1/auth/password/reset", json={"token": token, "password": NEW_PASSWORD + "x"})
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "invalid_token"


async def test_a_weak_new_password_is_refused_and_the_token_kept(
    client: AsyncTestClient[Litestar], tenant: TenantKit, inbox: Inbox
) -> None:
    token = await _reset_token(client, tenant, inbox, "moderator")
    weak = await client.post("/api/v1/auth/password/reset", json={"token": token, "password": "short"})
    assert weak.status_code == 422
    assert weak.json()["error"]["code"] == "weak_password"
    assert (
        await client.post("/api/v1/auth/password/reset", json={"token": token, "password": NEW_PASSWORD})
    ).status_code == 204


async def test_change_password_needs_the_current_one_and_keeps_this_session(
    client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    other_device = await tenant.headers(client, "staff")
    this_device = await tenant.headers(client, "staff")
    wrong = await client.post(
        "/api/v1/auth/password/change",
        json={"current_password": "not-it-at-all", "new_password": NEW_PASSWORD},
        headers=this_device,
    )
    assert wrong.status_code == 403
    changed = await client.post(
        "/api/v1/auth/password/change",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=this_device,
    )
    assert changed.json() == {"sessions_revoked": 1}
    assert (await client.get("/api/v1/auth/me", headers=this_device)).status_code == 200
    assert (await client.get("/api/v1/auth/me", headers=other_device)).status_code == 401
