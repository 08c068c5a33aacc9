"""The OpenAPI document at ``/schema``: every ``/api/v1`` operation lists its errors, in the one error body, with
their stable codes; and whatever the API answers a probe of each operation (no session; then every permission,
made-up ids and an empty body) is a status and a code the document lists for it."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.auth.permissions import ALL_PERMISSIONS
from tests.api.identity.arrange import Headers, signed_in_with
from tests.kit import TenantKit

Client = AsyncTestClient[Litestar]
Operation = tuple[str, str, dict[str, Any]]
ERROR_BODY = {"$ref": "#/components/schemas/ErrorBody"}
# Answers to the probe that are known to be wrong, each reported to the owner of the route: an undocumented code
# (their docstring does not name it) or a bug. Strict: the test fails once one is fixed, to have it removed here.
KNOWN = {
    "POST /api/v1/files as everything": (415, "unsupported_media_type"),  # api/chat/controllers/attachments.py
    "PUT /api/v1/messages/{message_id}/reactions/{emoji} as everything": (422, "invalid_emoji"),
    "DELETE /api/v1/messages/{message_id}/reactions/{emoji} as everything": (422, "invalid_emoji"),
    "PATCH /api/v1/notification-categories/{key} as everything": (404, "unknown_category"),
    # A made-up user id violates a foreign key: 500 instead of 404 (api/moderation/controllers/admin.py).
    "PUT /api/v1/moderation/scopes/{user_id} as everything": (500, "internal_error"),
}
# Made-up values for path parameters, by their schema's format (or type).
SAMPLES = {"uuid": lambda: str(uuid.uuid4()), "date": lambda: "2030-01-07", "integer": lambda: "1"}


async def operations(client: Client) -> list[Operation]:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200, response.text
    paths: dict[str, dict[str, Any]] = response.json()["paths"]
    return [
        (path, method.upper(), operation)
        for path, item in sorted(paths.items())
        if path.startswith("/api/v1/")
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def listed(operation: dict[str, Any], status: int) -> list[str]:
    """The error codes ``operation`` documents for ``status`` (none when the status is not documented)."""
    response = operation["responses"].get(str(status))
    if response is None:
        return []
    examples = response["content"]["application/json"].get("examples", {}).values()
    return [example["value"]["error"]["code"] for example in examples]


def concrete(path: str, operation: dict[str, Any]) -> str:
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "path":
            schema = parameter["schema"]
            value = SAMPLES.get(schema.get("format") or schema.get("type"), lambda: "x")()
            path = path.replace("{" + parameter["name"] + "}", value)
    return path


async def test_every_operation_lists_its_errors_in_the_error_body(client: Client) -> None:
    found = await operations(client)
    assert len(found) > 150
    for path, method, operation in found:
        errors = {status: r for status, r in operation["responses"].items() if int(status) >= 400}
        assert errors, f"{method} {path} documents no error"
        for status, response in errors.items():
            assert response["content"]["application/json"]["schema"] == ERROR_BODY, f"{method} {path} {status}"
            assert listed(operation, int(status)), f"{method} {path} {status} lists no code"


async def test_an_operation_lists_the_refusals_its_docstring_names(client: Client) -> None:
    by_route = {(path, method): operation for path, method, operation in await operations(client)}
    leave = by_route[("/api/v1/leave/requests", "POST")]
    assert leave["description"].startswith("Ask for leave")
    assert {"leave_overlap", "insufficient_balance"} <= set(listed(leave, 409))
    assert {"no_working_days", "no_approvers"} <= set(listed(leave, 422))
    assert listed(leave, 401) == ["unauthenticated"]
    assert listed(leave, 403) == ["forbidden"]
    decide = by_route[("/api/v1/approvals/{request_id}/decisions", "POST")]
    assert {"own_request", "not_an_approver"} <= set(listed(decide, 403))
    assert listed(by_route[("/api/v1/auth/login", "POST")], 401) != ["unauthenticated"]


async def probe(client: Client, method: str, path: str, operation: dict[str, Any], headers: Headers) -> Any:
    body = {} if method in {"POST", "PUT", "PATCH"} else None
    return await client.request(method, concrete(path, operation), json=body, headers=headers)


async def test_what_the_api_answers_a_probe_is_documented(client: Client, tenant: TenantKit) -> None:
    undocumented: dict[str, tuple[int, str]] = {}
    refused = 0
    headers = await signed_in_with(client, tenant, ALL_PERMISSIONS)
    for path, method, operation in await operations(client):
        for who in ("nobody", "everything"):
            response = await probe(client, method, path, operation, {} if who == "nobody" else headers)
            if response.status_code < 400:
                continue
            refused += 1
            code = response.json()["error"]["code"]
            if code not in listed(operation, response.status_code):
                undocumented[f"{method} {path} as {who}"] = (response.status_code, code)
            if who == "everything" and response.status_code == 401:
                headers = await signed_in_with(client, tenant, ALL_PERMISSIONS)  # the probe signed itself out
    assert undocumented == KNOWN
    assert refused > 300
