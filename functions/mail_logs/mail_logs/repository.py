"""The mail log's reads (one day's bucket at a time) and the unsubscribe write: the only DynamoDB code here."""

from __future__ import annotations

from typing import Any

from pynamodb.expressions.condition import Condition
from riveredge import keys
from riveredge.db.changes import System, change
from riveredge.db.models import MailDelivery, MailSuppression, Tenant
from riveredge.scope import Scope

FILTERED_PAGE_SIZE = 100  # items a filtered Query reads a page (filters skip some)


def delivery(scope: Scope, delivery_id: str) -> MailDelivery | None:
    try:
        key = keys.mail_delivery(scope, delivery_id)
    except ValueError:  # not a ULID: no record has that id
        return None
    return MailDelivery.find(key)


def day_page(
    scope: Scope,
    day: str,
    range_condition: Condition | None,
    filters: Condition | None,
    *,
    limit: int,
    start: dict[str, Any] | None,
) -> tuple[list[MailDelivery], dict[str, Any] | None]:
    """Up to `limit` records of one day's bucket, newest first; the key to go on from (None: the day is done)."""
    results = MailDelivery.query(
        keys.mail_deliveries(scope, day),
        range_key_condition=range_condition,
        filter_condition=filters,
        scan_index_forward=False,
        limit=limit,
        page_size=limit if filters is None else max(limit, FILTERED_PAGE_SIZE),
        last_evaluated_key=start,
    )
    found = [r for r in results if isinstance(r, MailDelivery)]
    return found, results.last_evaluated_key


def tenant(tenant_id: str) -> Tenant | None:
    return Tenant.find(keys.tenant(tenant_id), consistent=False)


def suppression(scope: Scope, email: str, category: str) -> MailSuppression | None:
    return MailSuppression.find(keys.mail_suppression(scope, email, category))


def unsubscribe(author: System, email: str, category: str) -> MailSuppression:
    """Record that `email` takes no more `category` mail of the tenant (logged; announced as mail.unsubscribed)."""
    item = MailSuppression.new(author.scope, email, category, reason="unsubscribe")
    after = {"email": item.email, "category": category, "reason": "unsubscribe"}
    with change(author, "mail.unsubscribe") as c:
        c.save(item, condition=MailSuppression.pk.does_not_exist(), conflict="already unsubscribed")
        c.log("mail.unsubscribe", "mail suppression", f"{item.email}#{category}", before=None, after=after)
        c.publish("mail.unsubscribed", {"email": item.email, "category": category}, source="mail")
    return item
