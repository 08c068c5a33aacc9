"""What ``notify`` records per channel: a delivery on each channel the category uses, none on the others."""

from __future__ import annotations

from sqlalchemy import select

from api.runtime import Runtime
from persistence.models import NotificationDelivery
from tests.delivery.arrange import send
from tests.kit import TenantKit


async def test_a_notification_records_no_delivery_on_a_channel_its_category_never_uses(
    runtime: Runtime, tenant: TenantKit
) -> None:
    # Leave requests go by inbox and email; their category has push off for everyone.
    notification_id = await send(runtime, tenant.id, tenant.users["staff"], category="leave", priority="normal")
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        rows = (
            (
                await session.execute(
                    select(NotificationDelivery.channel, NotificationDelivery.status).where(
                        NotificationDelivery.notification_id == notification_id
                    )
                )
            )
            .tuples()
            .all()
        )
    assert dict(rows) == {"in_app": "delivered", "email": "queued"}
