"""Delivery records and suppressed addresses: the only code of the mailer that touches DynamoDB."""

from __future__ import annotations

from collections.abc import Iterable

from riveredge import keys
from riveredge.clock import utcnow
from riveredge.db.models import MailDelivery, MailSuppression
from riveredge.scope import Scope


def delivery(scope: Scope, delivery_id: str) -> MailDelivery | None:
    key = keys.mail_delivery(scope, delivery_id)
    try:
        return MailDelivery.get(key.pk, key.sk, consistent_read=True)
    except MailDelivery.DoesNotExist:
        return None


def suppressed(scope: Scope, addresses: Iterable[str]) -> list[str]:
    """Which of `addresses` the tenant's mail no longer goes to."""
    wanted = [keys.mail_suppression(scope, a) for a in {a.lower() for a in addresses}]
    return sorted(s.email for s in MailSuppression.batch_get([(k.pk, k.sk) for k in wanted]))


def save(record: MailDelivery) -> None:
    record.save()


def suppress(scope: Scope, addresses: Iterable[str], reason: str, delivery_id: str | None) -> None:
    with MailSuppression.batch_write() as batch:
        for address in addresses:
            item = MailSuppression.new(scope, address, reason=reason, delivery_id=delivery_id)
            item.stamp(utcnow())
            batch.save(item)
