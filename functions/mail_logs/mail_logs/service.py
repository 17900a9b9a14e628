"""The mail log and unsubscribe links.

Delivery records sit in one partition per tenant and UTC day (keys.mail_delivery). A page of the log walks
the days from `until` (default: now) back to `since` (default: the organisation's first day, at most
riveredge.mail.RETENTION back), one Query a day, newest first, with the filters as the Query's filter; it
reads at most DAYS_PER_PAGE days, so a page of a sparse range may come back short with a next_cursor, which
goes on where it stopped (a day, and the key within it). Nothing scans.
"""

from __future__ import annotations

import re
from contextlib import suppress
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from pynamodb.expressions.condition import Condition
from riveredge import cursors, keys, mail, unsubscribe
from riveredge.actor import Actor
from riveredge.clock import as_utc, ulid_bound, utcnow
from riveredge.db.changes import System
from riveredge.db.models import MailDelivery
from riveredge.emails import normalise_email
from riveredge.errors import BadRequestError, ConflictError, FieldProblem, NotFoundError
from riveredge.scope import Scope, use_scope

from mail_logs import repository

DAYS_PER_PAGE = 31  # day buckets one page reads at most
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
UNSUBSCRIBER = "unsubscribe-link"  # the author of an unsubscribe in the operation log


@dataclass(frozen=True)
class Filters:
    """What a client may filter the mail log by (each optional)."""

    template: str | None = None
    recipient: str | None = None
    status: str | None = None
    category: str | None = None
    test: bool | None = None
    since: datetime | None = None
    until: datetime | None = None

    def fingerprint(self) -> str:
        return cursors.fingerprint(
            {
                "route": "mail-logs",
                "template": self.template,
                "recipient": self.recipient,
                "status": self.status,
                "category": self.category,
                "test": self.test,
                "since": self.since.isoformat() if self.since else None,
                "until": self.until.isoformat() if self.until else None,
            }
        )

    def condition(self) -> Condition | None:
        found: Condition | None = None
        for part in (
            MailDelivery.template_code == self.template if self.template else None,
            MailDelivery.recipients.contains(self.recipient) if self.recipient else None,
            MailDelivery.status == self.status if self.status else None,
            MailDelivery.category == self.category if self.category else None,
            MailDelivery.test == self.test if self.test is not None else None,
        ):
            if part is not None:
                found = part if found is None else found & part
        return found


def _recipient(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return normalise_email(value.strip())
    except ValueError as error:
        raise BadRequestError("recipient is not an address", errors=[FieldProblem("recipient", str(error))]) from error


def _day(value: date) -> str:
    return value.strftime("%Y-%m-%d")


def _oldest_day(scope: Scope, since: datetime | None, now: datetime) -> date:
    """The oldest day a page may read: `since`, else the organisation's first day, never beyond retention."""
    floor = (now - mail.RETENTION).date()
    if since is not None:
        return max(since.date(), floor)
    tenant = repository.tenant(scope.tenant_id)
    created = tenant.created_at.date() if tenant is not None and tenant.created_at else floor
    return max(created, floor)


def _resume(scope: Scope, position: dict[str, Any] | None) -> tuple[date | None, dict[str, Any] | None]:
    """Where a cursor goes on: its day, and the key within that day (None: the day's newest)."""
    if position is None:
        return None, None
    day, key = position.get("day"), position.get("key")
    if not isinstance(day, str) or not DAY.match(day) or (key is not None and not isinstance(key, dict)):
        raise BadRequestError("the cursor is not valid", errors=[FieldProblem("cursor", "not valid")])
    if key is not None and (key.get("pk") or {}).get("S") != keys.mail_deliveries(scope, day):
        raise BadRequestError("the cursor is not valid", errors=[FieldProblem("cursor", "not valid")])
    return date.fromisoformat(day), key


def page(actor: Actor, filters: Filters, *, limit: int, cursor: str | None) -> tuple[list[MailDelivery], str | None]:
    """A page of the organisation's delivery records, newest first."""
    scope = actor.scope
    filters = Filters(
        template=filters.template,
        recipient=_recipient(filters.recipient),
        status=filters.status,
        category=filters.category,
        test=filters.test,
        since=as_utc(filters.since, "since") if filters.since else None,
        until=as_utc(filters.until, "until") if filters.until else None,
    )
    if filters.since and filters.until and filters.until < filters.since:
        raise BadRequestError("until is before since", errors=[FieldProblem("until", "must not be before since")])
    fingerprint = filters.fingerprint()
    resumed_day, key = _resume(scope, cursors.decode(scope, fingerprint, cursor))
    now = utcnow()
    until = filters.until or now
    oldest = _oldest_day(scope, filters.since, now)
    lowest = ulid_bound(filters.since, upper=False) if filters.since else None
    highest = ulid_bound(until, upper=True)
    within = MailDelivery.sk <= highest if lowest is None else MailDelivery.sk.between(lowest, highest)
    condition = filters.condition()
    day = resumed_day or until.date()
    found: list[MailDelivery] = []
    position: dict[str, Any] | None = None
    for _ in range(DAYS_PER_PAGE):
        if day < oldest or len(found) >= limit:
            break
        items, last = repository.day_page(scope, _day(day), within, condition, limit=limit - len(found), start=key)
        found += items
        key = None
        if last is not None:  # the page filled up inside this day
            position = {"day": _day(day), "key": last}
            break
        day -= timedelta(days=1)
    if position is None and day >= oldest:  # the walk stopped at a day boundary with days left
        position = {"day": _day(day), "key": None}
    return found, cursors.encode(scope, fingerprint, position)


def one(actor: Actor, delivery_id: str) -> MailDelivery:
    """One delivery record of the organisation (404 for another organisation's or an unknown id)."""
    record = repository.delivery(actor.scope, delivery_id)
    if record is None:
        raise NotFoundError(f"no mail delivery {delivery_id}")
    return record


@dataclass(frozen=True)
class Subscription:
    email: str
    category: str
    organisation: str
    unsubscribed: bool


def _masked(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def _subscription(token: str) -> tuple[unsubscribe.Subscription, Scope, str]:
    found = unsubscribe.read(token)
    if found.category not in mail.UNSUBSCRIBABLE:
        raise BadRequestError("the unsubscribe link is not valid", errors=[FieldProblem("token", "not valid")])
    scope = Scope(found.tenant_id)
    with use_scope(scope):
        tenant = repository.tenant(found.tenant_id)
    if tenant is None:
        raise NotFoundError("the organisation of this link no longer exists")
    return found, scope, tenant.name


def subscription(token: str) -> Subscription:
    """What an unsubscribe link stands for, and whether it was used (changes nothing: scanners follow links)."""
    found, scope, organisation = _subscription(token)
    with use_scope(scope):
        done = repository.suppression(scope, found.email, found.category) is not None
    return Subscription(_masked(found.email), found.category, organisation, done)


def unsubscribe_from(token: str, request_id: str | None) -> Subscription:
    """Use an unsubscribe link: the address takes no more mail of the link's category from the organisation."""
    found, scope, organisation = _subscription(token)
    with use_scope(scope):
        if repository.suppression(scope, found.email, found.category) is None:
            with suppress(ConflictError):  # the same link used twice at once: the other use recorded it
                repository.unsubscribe(System(scope, UNSUBSCRIBER, request_id), found.email, found.category)
    return Subscription(_masked(found.email), found.category, organisation, True)
