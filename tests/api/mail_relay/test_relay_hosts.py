"""A tenant's relay must be on a public address unless the installation allows private ones: otherwise a
tenant admin could point it at the installation's own network and read what answers."""

from __future__ import annotations

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.app import create_app
from api.settings import Settings
from delivery.relays import relay_host_problem
from tests.api.mail_relay.test_mail_relay_api import RELAY, relay_body
from tests.kit import TenantKit

NOT_PUBLIC = ["127.0.0.1", "10.0.0.5", "172.16.3.4", "192.168.1.1", "169.254.169.254", "100.64.0.1", "::1", "localhost"]


@pytest.mark.parametrize("host", NOT_PUBLIC)
async def test_a_host_on_a_non_public_address_is_a_problem(host: str) -> None:
    problem = await relay_host_problem(host, 25, private_hosts=False)
    assert problem is not None
    assert problem.startswith(f"{host} is at ")


@pytest.mark.parametrize("host", NOT_PUBLIC)
async def test_an_installation_that_allows_private_hosts_lets_them_through(host: str) -> None:
    assert await relay_host_problem(host, 25, private_hosts=True) is None


async def test_a_public_address_is_no_problem() -> None:
    assert await relay_host_problem("8.8.8.8", 587, private_hosts=False) is None


async def test_saving_a_relay_on_loopback_is_refused_and_nothing_is_stored(
    client: AsyncTestClient[Litestar], settings: Settings, tenant: TenantKit
) -> None:
    guarded = create_app(msgspec.structs.replace(settings, mail_relay_private_hosts=False))
    admin = await tenant.headers(client)
    async with AsyncTestClient(app=guarded, base_url="http://127.0.0.1:8000") as strict:
        saved = await strict.put(RELAY, json=relay_body(2525, "secret"), headers=admin)
        assert saved.status_code == 422
        assert (saved.json()["error"]["code"], saved.json()["error"]["details"]) == (
            "mail_relay_host_not_allowed",
            {"field": "host"},
        )
        stored = await strict.get(RELAY, headers=admin)
        assert stored.status_code == 404
