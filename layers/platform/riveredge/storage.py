"""A tenant's storage quota: bytes and files, reserved when an upload is presigned, settled by the S3 event.

The quota is one item per tenant (:class:`riveredge.db.files.StorageQuota`). Its limits come from the
tenant's tier (:data:`TIER_LIMITS`) until an operator sets its own (``limit_source``: ``tier`` |
``operator``). Beside what settled objects use and what pending uploads reserve, it keeps what is left
(``available_*``) as an attribute of its own, because a DynamoDB condition cannot add: every reservation is
one conditional update ``available_bytes >= :size AND available_count >= :one`` inside the transaction that
creates the pending file, so concurrent presigns never reserve more than the limit, and a refused one stores
nothing. The writes here add their update to the caller's :class:`riveredge.db.changes.Change`.

Life of an upload's bytes: :func:`reserve` (presign: reserved += declared) -> :func:`settle` (the S3 event:
reserved -= declared, used += the object's real size) -> :func:`release_used` (soft delete) and
:func:`charge` again (restore, refused like a presign when the quota no longer has room).
:func:`release_reservation` gives back an upload that never arrived (aborted, or stale).

Crossing :data:`WARN_AT` of either limit sends the ``storage_warning`` mail to the tenant's admins once
(``warned``); falling back below it re-arms the warning (:func:`check_warning`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from riveredge import keys
from riveredge.db.changes import Change, System, change
from riveredge.db.files import StorageQuota
from riveredge.db.models import RoleCode, Tenant, User
from riveredge.errors import ConflictError, DomainError, FieldProblem, PayloadTooLargeError
from riveredge.observability import logger
from riveredge.scope import Scope

GiB = 1024**3
TIER_LIMITS: dict[str, tuple[int, int]] = {  # tier -> (bytes, files)
    "free": (1 * GiB, 1_000),
    "standard": (100 * GiB, 100_000),
    "enterprise": (1024 * GiB, 1_000_000),
}
DEFAULT_TIER = "standard"
WARN_AT = 0.8
WARNING_TEMPLATE = "storage_warning"
ADMIN_ROLES = ("super_admin", "admin")  # who gets the warning (the system roles every tenant starts with)
MAX_WARNED = 50  # admins mailed for one crossing (one message each)


class StorageQuotaExceededError(PayloadTooLargeError):
    """An upload (or a restore) the tenant's storage quota has no room for."""

    type = "/problems/storage-quota-exceeded"
    title = "Storage quota exceeded"


@dataclass(frozen=True)
class Usage:
    used_bytes: int
    reserved_bytes: int
    limit_bytes: int
    used_count: int
    reserved_count: int
    limit_count: int
    limit_source: str

    @property
    def available_bytes(self) -> int:
        return self.limit_bytes - self.used_bytes - self.reserved_bytes

    @property
    def available_count(self) -> int:
        return self.limit_count - self.used_count - self.reserved_count

    def as_dict(self) -> dict[str, Any]:
        return {
            "bytes": {
                "used": self.used_bytes,
                "reserved": self.reserved_bytes,
                "limit": self.limit_bytes,
                "available": max(self.available_bytes, 0),
            },
            "count": {
                "used": self.used_count,
                "reserved": self.reserved_count,
                "limit": self.limit_count,
                "available": max(self.available_count, 0),
            },
            "limit_source": self.limit_source,
        }


def tier_limits(tier: str | None) -> tuple[int, int]:
    return TIER_LIMITS.get(tier or DEFAULT_TIER, TIER_LIMITS[DEFAULT_TIER])


def _fresh(scope: Scope) -> StorageQuota:
    tenant = Tenant.find(keys.tenant(scope.tenant_id))
    tier = tenant.tier if tenant is not None else DEFAULT_TIER
    limit_bytes, limit_count = tier_limits(tier)
    return StorageQuota.new(
        scope,
        tier=tier,
        limit_bytes=limit_bytes,
        limit_count=limit_count,
        limit_source="tier",
        used_bytes=0,
        used_count=0,
        reserved_bytes=0,
        reserved_count=0,
        available_bytes=limit_bytes,
        available_count=limit_count,
        warned=False,
    )


def quota(scope: Scope) -> StorageQuota:
    """The tenant's quota item, created from its tier's limits the first time it is needed."""
    found = StorageQuota.find(keys.storage_quota(scope))
    if found is not None:
        return found
    fresh = _fresh(scope)
    try:
        with change(System(scope), "storage.create", fresh) as c:
            c.create(fresh, conflict="the storage quota exists already")
    except ConflictError:
        return StorageQuota.get_or_404(keys.storage_quota(scope))  # a concurrent first upload created it
    return fresh


def current(scope: Scope) -> StorageQuota:
    """The tenant's quota item as stored, or (not stored: version 0) its tier's limits; for reads."""
    return StorageQuota.find(keys.storage_quota(scope)) or _fresh(scope)


def usage(scope: Scope) -> Usage:
    """What the tenant uses, reserves and may store (the tier's limits for a tenant that stored nothing)."""
    return usage_of(current(scope))


def usage_of(item: StorageQuota) -> Usage:
    """What a quota item says the tenant uses, reserves and may store."""
    return Usage(
        used_bytes=int(item.used_bytes or 0),
        reserved_bytes=int(item.reserved_bytes or 0),
        limit_bytes=int(item.limit_bytes),
        used_count=int(item.used_count or 0),
        reserved_count=int(item.reserved_count or 0),
        limit_count=int(item.limit_count),
        limit_source=str(item.limit_source or "tier"),
    )


def _room(item: StorageQuota, size: int) -> Any:
    return (StorageQuota.available_bytes >= size) & (StorageQuota.available_count >= 1)


def reserve(c: Change, item: StorageQuota, size: int) -> None:
    """Reserve `size` bytes and one file in the change (refused, and then :func:`refusal` says why, when the
    quota has no room for them)."""
    c.update(
        item,
        [
            StorageQuota.reserved_bytes.add(size),
            StorageQuota.reserved_count.add(1),
            StorageQuota.available_bytes.add(-size),
            StorageQuota.available_count.add(-1),
        ],
        condition=_room(item, size),
        versioned=False,
    )


def charge(c: Change, item: StorageQuota, size: int) -> None:
    """Count `size` bytes and one file as used again (a restored file), if the quota has room for them."""
    c.update(
        item,
        [
            StorageQuota.used_bytes.add(size),
            StorageQuota.used_count.add(1),
            StorageQuota.available_bytes.add(-size),
            StorageQuota.available_count.add(-1),
        ],
        condition=_room(item, size),
        versioned=False,
    )


def settle(c: Change, item: StorageQuota, reserved: int, size: int) -> None:
    """An upload that reserved `reserved` bytes arrived with `size`: its reservation becomes what it uses.

    An object larger than its reservation (a multipart upload is not bounded by a policy) is counted by its
    real size, even when that leaves the quota over its limit: the usage always matches the objects stored.
    """
    c.update(
        item,
        [
            StorageQuota.reserved_bytes.add(-reserved),
            StorageQuota.reserved_count.add(-1),
            StorageQuota.used_bytes.add(size),
            StorageQuota.used_count.add(1),
            StorageQuota.available_bytes.add(reserved - size),
        ],
        versioned=False,
    )


def release_reservation(c: Change, item: StorageQuota, reserved: int) -> None:
    """Give back the reservation of an upload that will not arrive (aborted, or stale)."""
    c.update(
        item,
        [
            StorageQuota.reserved_bytes.add(-reserved),
            StorageQuota.reserved_count.add(-1),
            StorageQuota.available_bytes.add(reserved),
            StorageQuota.available_count.add(1),
        ],
        versioned=False,
    )


def release_used(c: Change, item: StorageQuota, size: int) -> None:
    """Give back what a stored file used (it was deleted)."""
    c.update(
        item,
        [
            StorageQuota.used_bytes.add(-size),
            StorageQuota.used_count.add(-1),
            StorageQuota.available_bytes.add(size),
            StorageQuota.available_count.add(1),
        ],
        versioned=False,
    )


def refusal(scope: Scope, size: int, field: str = "size") -> StorageQuotaExceededError:
    """Why the quota refused `size` bytes (read after the refused transaction): too big for what is left, or
    no files left."""
    now = usage(scope)
    if now.available_count < 1:
        return StorageQuotaExceededError(
            f"the organisation stores {now.used_count} of {now.limit_count} files"
            f" ({now.reserved_count} uploads in progress): no file can be added",
            errors=[FieldProblem(field, "the storage quota allows no more files")],
        )
    return StorageQuotaExceededError(
        f"{size} bytes do not fit in the {max(now.available_bytes, 0)} bytes left of the organisation's"
        f" {now.limit_bytes}-byte storage quota",
        errors=[FieldProblem(field, f"larger than the {max(now.available_bytes, 0)} bytes left of the quota")],
    )


def set_limits(c: Change, item: StorageQuota, limit_bytes: int, limit_count: int, source: str) -> None:
    """Change the tenant's limits (what is left moves by the difference), on the limits just read."""
    old_bytes, old_count = int(item.limit_bytes), int(item.limit_count)
    c.update(
        item,
        [
            StorageQuota.limit_bytes.set(limit_bytes),
            StorageQuota.limit_count.set(limit_count),
            StorageQuota.limit_source.set(source),
            StorageQuota.available_bytes.add(limit_bytes - old_bytes),
            StorageQuota.available_count.add(limit_count - old_count),
        ],
        condition=(StorageQuota.limit_bytes == old_bytes) & (StorageQuota.limit_count == old_count),
        versioned=False,
        conflict="the storage quota changed meanwhile; try again",
    )


def ratio(now: Usage) -> float:
    """The larger of the bytes and files used, as a share of their limits."""
    shares = [
        now.used_bytes / now.limit_bytes if now.limit_bytes > 0 else 1.0,
        now.used_count / now.limit_count if now.limit_count > 0 else 1.0,
    ]
    return max(shares)


def human(size: int) -> str:
    """A size as people read it (1.5 GB), for the warning mail."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"  # pragma: no cover


def _mark_warned(scope: Scope, item: StorageQuota, warned: bool) -> bool:
    """Flip the quota's warning flag from `not warned` to `warned` (False when another container did first)."""
    try:
        with change(System(scope), "storage.warning" if warned else "storage.warning_rearmed") as c:
            c.update(
                item,
                [StorageQuota.warned.set(warned)],
                condition=StorageQuota.warned == (not warned),
                versioned=False,
                conflict="the warning flag changed meanwhile",
            )
            c.log(
                "storage.warning" if warned else "storage.warning_rearmed",
                StorageQuota.noun,
                "QUOTA",
                before={"warned": not warned},
                after={"warned": warned},
            )
    except DomainError:
        return False
    return True


def admin_recipients(scope: Scope) -> list[tuple[str, str]]:
    """(email, name) of the tenant's active administrators, else its first admin's address from onboarding.

    One GetItem per admin role and one Query of the tenant's accounts filtered by those roles: off the
    request path (a crossing of the warning threshold), and accounts are few next to files.
    """
    role_ids = [
        claim.owner for code in ADMIN_ROLES if (claim := RoleCode.find(keys.role_code(scope, code))) is not None
    ]
    found: list[tuple[str, str]] = []
    if role_ids:
        condition = User.status == "active"
        holds = User.role_ids.contains(role_ids[0])
        for role_id in role_ids[1:]:
            holds = holds | User.role_ids.contains(role_id)
        for user in User.query(keys.collection(scope, "USER"), filter_condition=condition & holds):
            if isinstance(user, User):
                found.append((user.email, user.name))
                if len(found) >= MAX_WARNED:
                    break
    if not found:
        tenant = Tenant.find(keys.tenant(scope.tenant_id))
        if tenant is not None and tenant.admin_email:
            found.append((tenant.admin_email, ""))
    return found


def check_warning(scope: Scope) -> bool:
    """Send ``storage_warning`` to the admins when use has crossed :data:`WARN_AT` since the last warning;
    re-arm it when use has fallen back below. Answers whether a warning went out.

    The flag flips with a condition first, so one crossing mails once however many consumers settle files
    at the same moment; if queueing the mail fails the flag flips back and the failure is raised (the S3
    event is delivered again).
    """
    from riveredge import mail

    item = StorageQuota.find(keys.storage_quota(scope))
    if item is None:
        return False
    now = usage_of(item)
    above = ratio(now) >= WARN_AT
    if above == bool(item.warned):
        return False
    if not above:
        _mark_warned(scope, item, False)
        return False
    if not _mark_warned(scope, item, True):
        return False
    percent = min(int(ratio(now) * 100), 100)
    bytes_share = now.used_bytes / now.limit_bytes if now.limit_bytes else 1.0
    used, total = (
        (human(now.used_bytes), human(now.limit_bytes))
        if bytes_share >= now.used_count / max(now.limit_count, 1)
        else (f"{now.used_count} files", f"{now.limit_count} files")
    )
    sends = [
        (
            [email],
            {
                **({"user_name": name} if name else {}),
                "used_percent": percent,
                "used_space": used,
                "total_space": total,
            },
        )
        for email, name in admin_recipients(scope)
    ]
    if not sends:
        logger.warning("storage warning: the organisation has no administrator to tell")
        return True
    try:
        mail.send_many_by_template(scope, WARNING_TEMPLATE, sends)
    except Exception:
        fresh = StorageQuota.find(keys.storage_quota(scope))
        if fresh is not None:
            _mark_warned(scope, fresh, False)
        raise
    return True
