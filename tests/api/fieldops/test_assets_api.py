"""Assets: per workplace, serials unique per tenant, condition history, filters and search, the QR label
that opens the asset, other tenants' ids, and who may do what."""

from __future__ import annotations

import re
from typing import Any

import pytest
import zxingcpp
from sqlalchemy import func, select

from api.auth.permissions import BUILTIN_ROLES, Permission
from api.runtime import Runtime
from persistence.models import Asset, AuditEvent
from tests.api.fieldops.fieldkit import Client, make_asset, make_workplace, refused_without
from tests.api.identity.arrange import Headers, refusal
from tests.api.identity.test_rbac import _APP, guarded_endpoints
from tests.kit import TenantKit

A = "/api/v1/assets"
ASSET = f"{A}/{{asset_id:uuid}}"
EXPECTED = {
    ("GET", A, Permission.ASSETS_READ),
    ("GET", ASSET, Permission.ASSETS_READ),
    ("POST", A, Permission.ASSETS_WRITE),
    ("PATCH", ASSET, Permission.ASSETS_WRITE),
    ("POST", f"{ASSET}/condition", Permission.ASSETS_WRITE),
    ("GET", f"{ASSET}/history", Permission.ASSETS_READ),
    ("GET", f"{ASSET}/label", Permission.ASSETS_READ),
}
TABLE = sorted((m, p, perm) for m, p, perm in guarded_endpoints(_APP) if p.startswith(A))


async def _asset_count(runtime: Runtime, tenant: TenantKit) -> int:
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        return await session.scalar(select(func.count()).select_from(Asset)) or 0


def _svg_modules(svg: str) -> tuple[bytearray, int]:
    """The dark modules of a segno SVG path (``M x y`` / ``m dx dy`` moves, ``h n`` runs), as an 8-bit image
    with 4 pixels per module, and its side in pixels."""
    size = int(re.search(r'width="(\d+)"', svg).group(1))  # type: ignore[union-attr]
    scale = int(re.search(r"scale\((\d+)\)", svg).group(1))  # type: ignore[union-attr]
    side, px = size // scale, 4
    image = bytearray([255]) * (side * px) ** 2
    x = y = 0.0
    path = re.search(r' d="([^"]+)"', svg).group(1)  # type: ignore[union-attr]
    for command, numbers in re.findall(r"([MmHh])([-\d. ]+)", path):
        values = [float(n) for n in numbers.split()]
        if command in "Mm":
            x, y = (values[0], values[1]) if command == "M" else (x + values[0], y + values[1])
            continue
        row = int(y)
        for column in range(int(x), int(x + values[0])):
            for dy in range(px):
                start = ((row * px + dy) * side + column) * px
                image[start : start + px] = bytes(px)
        x += values[0]
    return image, side * px


def decode_label(svg: str) -> str:
    image, side = _svg_modules(svg)
    (barcode,) = zxingcpp.read_barcodes(memoryview(image).cast("B", (side, side)))
    text: str = barcode.text
    return text


async def test_an_asset_is_created_at_a_workplace_with_its_first_history_row(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    workplace = await make_workplace(client, admin)
    asset = await make_asset(client, admin, workplace["id"], model="Frigo 300", condition="new", note="Delivered")
    assert (asset["workplace_id"], asset["status"], asset["model"], asset["condition"]) == (
        workplace["id"],
        "in_service",
        "Frigo 300",
        "new",
    )
    history = (await client.get(f"{A}/{asset['id']}/history", headers=admin)).json()
    assert [(e["status"], e["condition"], e["note"], e["changed_by"]) for e in history["items"]] == [
        ("in_service", "new", "Delivered", str(tenant.users["admin"]))
    ]


async def test_a_serial_is_unique_in_the_tenant_only(
    client: Client, runtime: Runtime, tenant: TenantKit, other_tenant: TenantKit
) -> None:
    admin = await tenant.headers(client)
    workplace = await make_workplace(client, admin)
    await make_asset(client, admin, workplace["id"], serial="SN-1")
    twice = await client.post(
        A, json={"workplace_id": workplace["id"], "type": "ladder", "serial": "SN-1"}, headers=admin
    )
    assert refusal(twice) == (409, "serial_in_use")
    assert await _asset_count(runtime, tenant) == 1
    theirs = await other_tenant.headers(client)
    await make_asset(client, theirs, (await make_workplace(client, theirs))["id"], serial="SN-1")


async def test_renaming_to_a_taken_serial_is_refused_and_changes_nothing(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    workplace = await make_workplace(client, admin)
    await make_asset(client, admin, workplace["id"], serial="SN-A")
    other = await make_asset(client, admin, workplace["id"], serial="SN-B")
    refused = await client.patch(f"{A}/{other['id']}", json={"serial": "SN-A", "model": "X"}, headers=admin)
    assert refusal(refused) == (409, "serial_in_use")
    assert (await client.get(f"{A}/{other['id']}", headers=admin)).json()["model"] == ""


async def test_a_serial_with_spaces_is_refused(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    workplace = await make_workplace(client, admin)
    body = {"workplace_id": workplace["id"], "type": "fridge", "serial": "SN 1"}
    assert refusal(await client.post(A, json=body, headers=admin)) == (400, "invalid_request")


async def test_an_asset_moves_to_another_workplace_of_the_tenant_only(
    client: Client, tenant: TenantKit, other_tenant: TenantKit
) -> None:
    admin = await tenant.headers(client)
    first, second = await make_workplace(client, admin), await make_workplace(client, admin)
    asset = await make_asset(client, admin, first["id"])
    moved = await client.patch(f"{A}/{asset['id']}", json={"workplace_id": second["id"]}, headers=admin)
    assert moved.json()["workplace_id"] == second["id"]
    theirs = await make_workplace(client, await other_tenant.headers(client))
    refused = await client.patch(f"{A}/{asset['id']}", json={"workplace_id": theirs["id"]}, headers=admin)
    assert refusal(refused) == (404, "not_found")
    assert (await client.get(f"{A}/{asset['id']}", headers=admin)).json()["workplace_id"] == second["id"]


async def test_an_asset_at_another_tenants_workplace_is_refused(
    client: Client, runtime: Runtime, tenant: TenantKit, other_tenant: TenantKit
) -> None:
    theirs = await make_workplace(client, await other_tenant.headers(client))
    body = {"workplace_id": theirs["id"], "type": "fridge", "serial": "SN-X"}
    assert refusal(await client.post(A, json=body, headers=await tenant.headers(client))) == (404, "not_found")
    assert await _asset_count(runtime, tenant) == 0


async def test_a_condition_change_is_kept_in_the_history_and_audited(
    client: Client, runtime: Runtime, tenant: TenantKit
) -> None:
    admin = await tenant.headers(client)
    asset = await make_asset(client, admin, (await make_workplace(client, admin))["id"], condition="good")
    supervisor = await tenant.headers(client, "supervisor")
    changed = await client.post(
        f"{A}/{asset['id']}/condition",
        json={"status": "faulty", "condition": "door seal torn", "note": "Warm inside"},
        headers=supervisor,
    )
    assert (changed.status_code, changed.json()["status"], changed.json()["condition"]) == (
        200,
        "faulty",
        "door seal torn",
    )
    history = (await client.get(f"{A}/{asset['id']}/history", headers=admin)).json()["items"]
    assert [(e["status"], e["condition"], e["note"]) for e in history] == [
        ("in_service", "good", ""),
        ("faulty", "door seal torn", "Warm inside"),
    ]
    assert history[1]["changed_by"] == str(tenant.users["supervisor"])
    assert history[0]["changed_at"] <= history[1]["changed_at"]
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        audited = await session.scalar(
            select(AuditEvent.details).where(
                AuditEvent.action == "asset.condition", AuditEvent.target_id == asset["id"]
            )
        )
    assert audited is not None
    assert audited["to"] == {"status": "faulty", "condition": "door seal torn"}


async def test_a_condition_change_that_changes_nothing_is_refused(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    asset = await make_asset(client, admin, (await make_workplace(client, admin))["id"])
    for body in ({"note": "nothing"}, {"status": "in_service", "note": "same"}):
        refused = await client.post(f"{A}/{asset['id']}/condition", json=body, headers=admin)
        assert refusal(refused) == (422, "no_change")
    history = (await client.get(f"{A}/{asset['id']}/history", headers=admin)).json()
    assert history["total"] == 1


async def test_an_unknown_status_is_refused(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    asset = await make_asset(client, admin, (await make_workplace(client, admin))["id"])
    refused = await client.post(f"{A}/{asset['id']}/condition", json={"status": "broken"}, headers=admin)
    assert refusal(refused) == (400, "invalid_request")


async def test_assets_are_listed_by_workplace_status_and_type_and_searched_by_serial(
    client: Client, tenant: TenantKit
) -> None:
    admin = await tenant.headers(client)
    store, depot = await make_workplace(client, admin), await make_workplace(client, admin)
    await make_asset(client, admin, store["id"], serial="FR-100", type="fridge")
    await make_asset(client, admin, store["id"], serial="LD-200", type="ladder", status="faulty")
    await make_asset(client, admin, depot["id"], serial="FR-300", type="fridge")

    async def serials(**query: Any) -> list[str]:
        response = await client.get(A, params=query, headers=admin)
        assert response.status_code == 200, response.text
        return [a["serial"] for a in response.json()["items"]]

    assert await serials(workplace_id=store["id"]) == ["FR-100", "LD-200"]
    assert await serials(status="faulty") == ["LD-200"]
    assert await serials(type="fridge") == ["FR-100", "FR-300"]
    assert await serials(q="fr-3") == ["FR-300"]


async def test_another_tenants_asset_is_not_found(client: Client, tenant: TenantKit, other_tenant: TenantKit) -> None:
    theirs = await other_tenant.headers(client)
    asset = await make_asset(client, theirs, (await make_workplace(client, theirs))["id"])
    mine = await tenant.headers(client)
    url = f"{A}/{asset['id']}"
    for response in (
        await client.get(url, headers=mine),
        await client.patch(url, json={"model": "mine now"}, headers=mine),
        await client.post(f"{url}/condition", json={"status": "retired"}, headers=mine),
        await client.get(f"{url}/history", headers=mine),
        await client.get(f"{url}/label", headers=mine),
    ):
        assert refusal(response) == (404, "not_found")
    assert (await client.get(url, headers=theirs)).json()["status"] == "in_service"


async def test_the_label_is_a_qr_code_that_opens_the_asset_in_the_client(
    client: Client, runtime: Runtime, tenant: TenantKit
) -> None:
    staff = await tenant.headers(client, "staff")
    admin = await tenant.headers(client)
    asset = await make_asset(client, admin, (await make_workplace(client, admin))["id"])
    label = await client.get(f"{A}/{asset['id']}/label", headers=staff)
    assert label.status_code == 200, label.text
    assert label.headers["content-type"].startswith("image/svg+xml")
    assert label.headers["x-content-type-options"] == "nosniff"
    public_url = runtime.settings.public_url.rstrip("/")
    assert decode_label(label.text) == f"{public_url}/#/assets/{asset['id']}"


async def test_the_label_also_comes_as_png(client: Client, tenant: TenantKit) -> None:
    admin = await tenant.headers(client)
    asset = await make_asset(client, admin, (await make_workplace(client, admin))["id"])
    label = await client.get(f"{A}/{asset['id']}/label", params={"format": "png"}, headers=admin)
    assert (label.status_code, label.headers["content-type"]) == (200, "image/png")
    assert label.content.startswith(b"\x89PNG\r\n\x1a\n")


def test_each_asset_endpoint_requires_the_intended_permission() -> None:
    assert set(TABLE) == EXPECTED


def test_staff_and_the_safety_role_read_assets_and_supervisors_manage_them() -> None:
    for role in ("staff", "safety"):
        assert Permission.ASSETS_READ in BUILTIN_ROLES[role][1]
        assert Permission.ASSETS_WRITE not in BUILTIN_ROLES[role][1]
    assert Permission.ASSETS_WRITE in BUILTIN_ROLES["supervisor"][1]


@pytest.mark.parametrize(("method", "path", "permission"), TABLE, ids=[f"{m} {p}" for m, p, _ in TABLE])
async def test_endpoint_refuses_a_caller_lacking_its_permission(
    client: Client,
    rbac_tenant: TenantKit,
    signed_in: dict[frozenset[str], Headers],
    method: str,
    path: str,
    permission: Permission,
) -> None:
    assert await refused_without(client, rbac_tenant, signed_in, method, path, permission) == (403, "forbidden")
