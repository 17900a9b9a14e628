"""Time and ids: one place, so tests and the local stack can reason about them."""

from __future__ import annotations

from datetime import UTC, datetime

from ulid import ULID

from riveredge.errors import BadRequestError, FieldProblem

_ULID_MAX_MS = (1 << 48) - 1


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``, as every API answer carries times."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_id() -> str:
    """A ULID: opaque, unique, and sorted by creation time."""
    return str(ULID())


def as_utc(moment: datetime, field: str) -> datetime:
    """A query's time in UTC: one without a zone is taken as UTC, as every time of the API is; a time whose
    UTC form is out of range (9999-12-31T23:00-05:00 is in the year 10000) is a 400 naming `field`."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError as error:
        raise BadRequestError(f"{field} is out of range", errors=[FieldProblem(field, "out of range")]) from error


def ulid_bound(moment: datetime, *, upper: bool) -> str:
    """The lowest (or highest) ULID of the millisecond `moment` (UTC): a sort-key bound for "since / until".

    A ULID's first 48 bits (its first 10 characters) are its creation time in milliseconds.
    """
    milliseconds = min(max(int(moment.timestamp() * 1000), 0), _ULID_MAX_MS)
    randomness = (b"\xff" if upper else b"\x00") * 10
    return str(ULID(milliseconds.to_bytes(6, "big") + randomness))
