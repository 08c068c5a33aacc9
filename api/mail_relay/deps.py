"""Provider of the mail relay service, one per request, on the request's transaction."""

from __future__ import annotations

from litestar.di import NamedDependency

from api.deps import per_request
from api.mail_relay.services import MailRelayService

mail_relays = per_request(MailRelayService)

MailRelaysDep = NamedDependency[MailRelayService]
"""The request's mail relay service (``mail_relays`` parameter)."""
