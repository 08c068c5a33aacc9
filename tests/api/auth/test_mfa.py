"""Two-step sign-in with TOTP: enrolment, challenge, single-use codes and recovery codes."""

from __future__ import annotations

import time

import pyotp
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.kit import PASSWORD, TenantKit

MFA = "/api/v1/auth/mfa"
STEP = 30


async def _enable_totp(client: AsyncTestClient[Litestar], headers: dict[str, str]) -> tuple[pyotp.TOTP, list[str]]:
    enrolled = (await client.post(f"{MFA}/totp", headers=headers)).json()
    assert enrolled["otpauth_uri"].startswith("otpauth://totp/")
    totp = pyotp.TOTP(enrolled["secret"])
    # The previous step's code: the later sign-in then uses the current one, which is still unused.
    confirm = await client.post(f"{MFA}/totp/confirm", json={"code": totp.at(time.time() - STEP)}, headers=headers)
    assert confirm.status_code == 200, confirm.text
    return totp, confirm.json()["recovery_codes"]


async def _challenge(client: AsyncTestClient[Litestar], tenant: TenantKit) -> str:
    response = await client.post(
        "/api/v1/auth/login", json={"email": tenant.email("staff"), "password": PASSWORD, "tenant": tenant.slug}
    )
    body = response.json()
    assert body["status"] == "mfa_required"
    assert "token" not in body
    challenge: str = body["challenge"]
    return challenge


async def test_password_alone_no_longer_signs_in_once_totp_is_on(
    client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    await _enable_totp(client, await tenant.headers(client, "staff"))
    challenge = await _challenge(client, tenant)
    response = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {challenge}"})
    assert response.status_code == 401


async def test_totp_code_completes_sign_in(client: AsyncTestClient[Litestar], tenant: TenantKit) -> None:
    totp, _ = await _enable_totp(client, await tenant.headers(client, "staff"))
    challenge = await _challenge(client, tenant)
    response = await client.post("/api/v1/auth/login/mfa", json={"challenge": challenge, "code": totp.now()})
    assert response.status_code == 200
    token = response.json()["token"]
    assert (await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})).status_code == 200


async def test_a_totp_code_works_only_once(client: AsyncTestClient[Litestar], tenant: TenantKit) -> None:
    totp, _ = await _enable_totp(client, await tenant.headers(client, "staff"))
    code = totp.now()
    first = await client.post(
        "/api/v1/auth/login/mfa", json={"challenge": await _challenge(client, tenant), "code": code}
    )
    assert first.status_code == 200
    again = await client.post(
        "/api/v1/auth/login/mfa", json={"challenge": await _challenge(client, tenant), "code": code}
    )
    assert again.status_code == 401
    assert again.json()["error"]["code"] == "invalid_code"


async def test_a_recovery_code_works_once(client: AsyncTestClient[Litestar], tenant: TenantKit) -> None:
    _, codes = await _enable_totp(client, await tenant.headers(client, "staff"))
    assert len(codes) == 10
    first = await client.post(
        "/api/v1/auth/login/mfa", json={"challenge": await _challenge(client, tenant), "code": codes[0]}
    )
    assert first.status_code == 200
    again = await client.post(
        "/api/v1/auth/login/mfa", json={"challenge": await _challenge(client, tenant), "code": codes[0]}
    )
    assert again.status_code == 401
    status = await client.get(MFA + "/", headers={"Authorization": f"Bearer {first.json()['token']}"})
    assert status.json() == {"totp_enabled": True, "recovery_codes_left": 9}


async def test_a_challenge_dies_after_five_wrong_codes(client: AsyncTestClient[Litestar], tenant: TenantKit) -> None:
    totp, _ = await _enable_totp(client, await tenant.headers(client, "staff"))
    challenge = await _challenge(client, tenant)
    for _ in range(5):
        wrong = await client.post("/api/v1/auth/login/mfa", json={"challenge": challenge, "code": "000000"})
        assert wrong.json()["error"]["code"] == "invalid_code"
    right = await client.post("/api/v1/auth/login/mfa", json={"challenge": challenge, "code": totp.now()})
    assert right.status_code == 401
    assert right.json()["error"]["code"] == "invalid_challenge"


async def test_confirming_with_a_wrong_code_leaves_totp_off(
    client: AsyncTestClient[Litestar], tenant: TenantKit
) -> None:
    headers = await tenant.headers(client, "staff")
    await client.post(f"{MFA}/totp", headers=headers)
    response = await client.post(f"{MFA}/totp/confirm", json={"code": "123456"}, headers=headers)
    assert response.status_code == 401
    assert (await client.get(MFA + "/", headers=headers)).json()["totp_enabled"] is False


async def test_disabling_totp_needs_a_valid_code(client: AsyncTestClient[Litestar], tenant: TenantKit) -> None:
    headers = await tenant.headers(client, "staff")
    totp, _ = await _enable_totp(client, headers)
    refused = await client.request("DELETE", f"{MFA}/totp", json={"code": "000000"}, headers=headers)
    assert refused.status_code == 401
    accepted = await client.request("DELETE", f"{MFA}/totp", json={"code": totp.now()}, headers=headers)
    assert accepted.status_code == 204
    assert (await client.get(MFA + "/", headers=headers)).json() == {"totp_enabled": False, "recovery_codes_left": 0}
