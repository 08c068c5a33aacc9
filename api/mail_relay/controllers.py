"""The tenant's own outbound mail relay, kept by its admins: read, replace, remove, and try with a test mail."""

from __future__ import annotations

from litestar import Controller, delete, get, post, put
from litestar.params import JSONBody

from api.auth.guards import requires
from api.auth.permissions import Permission
from api.deps import CallerDep, OriginDep, RuntimeDep
from api.mail_relay import deps
from api.mail_relay.deps import MailRelaysDep
from api.mail_relay.schemas import MailRelayResponse, MailRelayUpdate, TestMailSent, mail_relay_response

RELAY = "/"
TEST = "/test"


class MailRelayController(Controller):
    path = "/api/v1/tenants/current/mail-relay"
    tags = ["tenants"]
    guards = [requires(Permission.TENANT_WRITE)]
    dependencies = {"mail_relays": deps.mail_relays}

    @get(RELAY, operation_id="GetMailRelay")
    async def get_relay(self, mail_relays: MailRelaysDep) -> MailRelayResponse:
        """The tenant's mail relay, without its password (``password_set`` says whether one is stored);
        ``404 mail_relay_not_set`` when its mail goes through the installation's."""
        return mail_relay_response(await mail_relays.current())

    @put(RELAY, operation_id="SetMailRelay")
    async def set_relay(
        self,
        data: JSONBody[MailRelayUpdate],
        mail_relays: MailRelaysDep,
        runtime: RuntimeDep,
        current_user: CallerDep,
        origin: OriginDep,
    ) -> MailRelayResponse:
        """Create or replace the relay the tenant's mail leaves through, from its next send on; the password
        is sealed at rest and never returned (omit it to keep the stored one). Audited without the password.
        Errors: ``422 invalid_email`` for the from address, ``422 password_required``,
        ``422 mail_relay_host_not_allowed`` for a host on a loopback or private address (unless the
        installation allows them: ``FIELDHUB_MAIL_RELAY_PRIVATE_HOSTS``)."""
        relay = await mail_relays.save(
            data,
            keyring=runtime.settings.keyring(),
            actor=current_user,
            origin=origin,
            private_hosts=runtime.settings.mail_relay_private_hosts,
        )
        return mail_relay_response(relay)

    @delete(RELAY, operation_id="DeleteMailRelay", status_code=204)
    async def delete_relay(self, mail_relays: MailRelaysDep, current_user: CallerDep, origin: OriginDep) -> None:
        """Remove the relay: the tenant's mail goes through the installation's again (audited);
        ``404 mail_relay_not_set``."""
        await mail_relays.remove(actor=current_user, origin=origin)

    @post(TEST, operation_id="TestMailRelay", status_code=200)
    async def send_test(self, mail_relays: MailRelaysDep, runtime: RuntimeDep, current_user: CallerDep) -> TestMailSent:
        """Send a test mail to the caller's own address through the stored relay, at once; nothing is stored.
        Errors: ``404 mail_relay_not_set``; ``422 mail_relay_auth_failed`` (username or password refused),
        ``422 mail_relay_refused`` (another refusal), ``422 mail_relay_unreachable`` (connection, TLS or
        timeout), each with the relay's reply in ``details.reply``; ``422 mail_relay_host_not_allowed``."""
        relay = await mail_relays.send_test(
            keyring=runtime.settings.keyring(),
            actor=current_user,
            private_hosts=runtime.settings.mail_relay_private_hosts,
        )
        return TestMailSent(to=current_user.email, relay=f"{relay.host}:{relay.port}")
