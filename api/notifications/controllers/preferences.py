"""The caller's notification preferences: mute, quiet hours, digest interval and per-category channels."""

from __future__ import annotations

from litestar import Controller, get, put
from litestar.params import JSONBody

from api.deps import CallerDep
from api.notifications import deps
from api.notifications.deps import PreferencesDep
from api.notifications.schemas import PreferencesResponse, PreferencesUpdate


class PreferenceController(Controller):
    path = "/api/v1/notifications/preferences"
    tags = ["notification preferences"]
    dependencies = {"preferences": deps.preferences}

    @get("/", operation_id="GetNotificationPreferences")
    async def read(self, preferences: PreferencesDep, current_user: CallerDep) -> PreferencesResponse:
        """Effective channels per category, mute, quiet hours (in the caller's time zone) and digest interval."""
        return await preferences.read(current_user)

    @put("/", operation_id="ChangeNotificationPreferences")
    async def change(
        self, data: JSONBody[PreferencesUpdate], preferences: PreferencesDep, current_user: CallerDep
    ) -> PreferencesResponse:
        """Change what is given; ``409 category_locked`` for a category the organisation fixed."""
        return await preferences.change(data, actor=current_user)
