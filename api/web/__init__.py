"""The browser client: ``/`` and its static files, served by the app itself (no build step)."""

from __future__ import annotations

from api.web.controllers import WebController

__all__ = ["WebController"]
