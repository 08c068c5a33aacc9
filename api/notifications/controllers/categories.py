"""The tenant's notification categories: list (everyone), create and change defaults or lock them (admins)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, patch, post
from litestar.params import JSONBody, PathParameter

from api.auth.guards import requires
from api.auth.permissions import Permission
from api.deps import CallerDep
from api.notifications import deps
from api.notifications.deps import CategoriesDep
from api.notifications.schemas import CategoryCreate, CategoryResponse, CategoryUpdate, category_response

CategoryKeyParam = Annotated[str, PathParameter(max_length=64, description="The category's key, e.g. ``mention``.")]


class CategoryController(Controller):
    path = "/api/v1/notification-categories"
    tags = ["notification categories"]
    dependencies = {"categories": deps.categories}

    @get("/", operation_id="ListNotificationCategories")
    async def list_categories(self, categories: CategoriesDep, current_user: CallerDep) -> list[CategoryResponse]:
        """Every category with its default channels, delays and lock."""
        return [category_response(c) for c in await categories.all(current_user.tenant_id)]

    @post(
        "/",
        operation_id="CreateNotificationCategory",
        status_code=201,
        guards=[requires(Permission.NOTIFICATIONS_ADMIN)],
    )
    async def create_category(
        self, data: JSONBody[CategoryCreate], categories: CategoriesDep, current_user: CallerDep
    ) -> CategoryResponse:
        """Add a tenant category (``409 conflict`` for a taken key)."""
        return category_response(await categories.create_category(data, tenant_id=current_user.tenant_id))

    @patch(
        "/{key:str}",
        operation_id="UpdateNotificationCategory",
        guards=[requires(Permission.NOTIFICATIONS_ADMIN)],
    )
    async def update_category(
        self, key: CategoryKeyParam, data: JSONBody[CategoryUpdate], categories: CategoriesDep, current_user: CallerDep
    ) -> CategoryResponse:
        """Change defaults or lock them (users then cannot override)."""
        return category_response(await categories.update_category(key, data, tenant_id=current_user.tenant_id))
