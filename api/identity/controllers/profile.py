"""The caller's own profile: any signed-in user reads and edits it, whatever their roles."""

from __future__ import annotations

from litestar import Controller, get, patch
from litestar.params import JSONBody

from api.deps import CallerDep, OriginDep
from api.identity import deps
from api.identity.deps import UsersDep
from api.identity.schemas import ProfileUpdate, UserResponse, user_response


class ProfileController(Controller):
    """No permission guard: acting on oneself needs only a valid session (like ``/api/v1/auth/me``)."""

    path = "/api/v1/users/me"
    tags = ["users"]
    dependencies = {"users": deps.users}

    @get("/", operation_id="GetMyProfile")
    async def get_profile(self, users: UsersDep, current_user: CallerDep) -> UserResponse:
        """The caller's profile."""
        return user_response(await users.get(current_user.id))

    @patch("/", operation_id="UpdateMyProfile")
    async def update_profile(
        self, data: JSONBody[ProfileUpdate], users: UsersDep, current_user: CallerDep, origin: OriginDep
    ) -> UserResponse:
        """Change one's own name, phone, time zone, locale or avatar."""
        return user_response(await users.update_profile(data, actor=current_user, origin=origin))
