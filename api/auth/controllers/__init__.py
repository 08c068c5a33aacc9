"""The auth endpoints, one controller per resource."""

from api.auth.controllers.mfa import MfaController
from api.auth.controllers.passwords import PasswordController
from api.auth.controllers.sessions import SessionController

__all__ = ["MfaController", "PasswordController", "SessionController"]
