"""Delivery records and suppressed addresses: the only code of the mailer that touches DynamoDB."""

from __future__ import annotations

from collections.abc import Iterable

from riveredge import keys
from riveredge.clock import utcnow
from riveredge.db.models import MailDelivery, MailSuppression
from riveredge.scope import Scope


def delivery(scope: Scope, delivery_id: str) -> MailDelivery | None:
    try:
        key = keys.mail_delivery(scope, delivery_id)
    except ValueError:  # not a ULID (an SES event's tag we did not write): no record
        return None
    try:
        return MailDelivery.get(key.pk, key.sk, consistent_read=True)
    except MailDelivery.DoesNotExist:
        return None


def suppressed(scope: Scope, addresses: Iterable[str], category: str | None = None) -> dict[str, str]:
    """Which of `addresses` the tenant's mail (of `category`) no longer goes to, and why.

    An address suppressed for every category (a bounce, a complaint) and, with `category`, one that
    unsubscribed from it: one BatchGetItem for both.
    """
    wanted = {a.lower() for a in addresses}
    found = [keys.mail_suppression(scope, a) for a in wanted]
    if category:
        found += [keys.mail_suppression(scope, a, category) for a in wanted]
    reasons: dict[str, str] = {}
    for item in MailSuppression.batch_get([(k.pk, k.sk) for k in found]):
        said = item.reason if item.category is None else f"{item.reason} from {item.category} mail"
        reasons[item.email] = said if item.email not in reasons else f"{reasons[item.email]}, {said}"
    return dict(sorted(reasons.items()))


def save(record: MailDelivery) -> None:
    record.save()


def suppress(
    scope: Scope, addresses: Iterable[str], reason: str, delivery_id: str | None, category: str | None = None
) -> None:
    with MailSuppression.batch_write() as batch:
        for address in addresses:
            item = MailSuppression.new(scope, address, category, reason=reason, delivery_id=delivery_id)
            item.stamp(utcnow())
            batch.save(item)
