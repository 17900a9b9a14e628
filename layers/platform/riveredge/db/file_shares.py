"""Share links of files: a link anyone holding its token may download the file through, within its limits.

A share lives in its file's partition (``keys.file_share``). The token is answered once, when the link is
made, and never stored: the item keeps only the SHA-256 of its secret part (the secret is 256 random bits,
so a fast hash is enough; riveredge.db.file_shares.token_digest). The password, when there is one, is an
argon2id hash (riveredge.passwords). Downloads and failed password attempts are counted by atomic UpdateItems
that leave the version alone (riveredge.db.file_shares.count_download, count_password_failure), so that a
busy link never conflicts with itself and a client's If-Match on the link is not made stale by a download.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any, ClassVar

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UnicodeSetAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import UpdateError
from pynamodb.expressions.condition import Condition

from riveredge import keys
from riveredge.clock import iso
from riveredge.db.base import TableModel, condition_failed
from riveredge.scope import Scope


def token_digest(secret: str) -> str:
    """What a share keeps of its token's secret part (hex SHA-256)."""
    return hashlib.sha256(secret.encode()).hexdigest()


class FileShare(TableModel, discriminator="file_share"):
    """One share link of a file: who made it, until when it works, how many downloads it allows."""

    share_id = UnicodeAttribute()
    file_id = UnicodeAttribute()
    token_digest = UnicodeAttribute()
    password_hash = UnicodeAttribute(null=True)
    expires_at = UTCDateTimeAttribute(null=True)
    max_downloads = NumberAttribute(null=True)
    downloads = NumberAttribute(default=0)
    last_download_at = UTCDateTimeAttribute(null=True)
    notified = UnicodeSetAttribute(null=True)  # the addresses the link was mailed to
    created_by = UnicodeAttribute()
    # failed password attempts in the window that opened at the first of them (atomic counters, no version)
    password_failures = NumberAttribute(default=0)
    password_window_started = UTCDateTimeAttribute(null=True)

    noun: ClassVar[str] = "share link"
    id_attribute: ClassVar[str] = "share_id"

    def snapshot(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "password_protected": self.password_hash is not None,
            "expires_at": iso(self.expires_at) if self.expires_at else None,
            "max_downloads": int(self.max_downloads) if self.max_downloads is not None else None,
            "notified": sorted(self.notified or []),
        }

    @classmethod
    def new(cls, scope: Scope, file_id: str, share_id: str, **attributes: Any) -> FileShare:
        key = keys.file_share(scope, file_id, share_id)
        return cls(key.pk, key.sk, share_id=share_id, file_id=file_id, **attributes)

    @classmethod
    def of_file(cls, scope: Scope, file_id: str) -> list[FileShare]:
        """Every share link of a file, oldest first (one consistent Query of the file's partition)."""
        key = keys.file_share(scope, file_id, "")
        found = cls.query(key.pk, cls.sk.startswith(keys.SHARE_PREFIX), consistent_read=True)
        return [s for s in found if isinstance(s, cls)]


def count_download(share: FileShare, now: datetime) -> int | None:
    """Take one download of `share`: one conditional UpdateItem, so concurrent downloads never exceed the limit.

    The condition holds the link to what it was when read for the checks (still there with the same token,
    not expired at `now`, under its limit); answers the new count, or None when the condition failed (another
    download took the last one, or the link was deleted or changed meanwhile).
    """
    condition: Condition = FileShare.token_digest == share.token_digest
    if share.expires_at is not None:
        condition &= FileShare.expires_at > now
    if share.max_downloads is not None:
        condition &= FileShare.downloads < int(share.max_downloads)
    try:
        answer = FileShare._get_connection().update_item(
            share.pk,
            share.sk,
            actions=[FileShare.downloads.add(1), FileShare.last_download_at.set(now)],
            condition=condition,
            return_values="UPDATED_NEW",
        )
    except UpdateError as error:
        if condition_failed(error):
            return None
        raise
    return int(answer["Attributes"]["downloads"]["N"])


def count_password_failure(share: FileShare, now: datetime, window: timedelta) -> int | None:
    """Count a wrong password on `share`'s throttle; answers the failures in the current window (None: the link
    was deleted meanwhile).

    The window opens at its first failure. A window read closed starts again at 1, on the condition that no
    other request restarted it first (that failure is then counted into theirs): at most two UpdateItems, none
    of them read-modify-write, as for sign-in (docs/decisions/0008-sign-in-throttling.md).
    """
    connection = FileShare._get_connection()
    started = share.password_window_started
    if started is not None and started <= now - window:
        try:
            connection.update_item(
                share.pk,
                share.sk,
                actions=[FileShare.password_failures.set(1), FileShare.password_window_started.set(now)],
                condition=FileShare.password_window_started <= now - window,
            )
            return 1
        except UpdateError as error:
            if not condition_failed(error):
                raise
    try:
        answer = connection.update_item(
            share.pk,
            share.sk,
            actions=[
                FileShare.password_failures.add(1),
                FileShare.password_window_started.set(FileShare.password_window_started | now),
            ],
            condition=FileShare.token_digest.exists(),  # never make an item of a link deleted meanwhile
            return_values="UPDATED_NEW",
        )
    except UpdateError as error:
        if condition_failed(error):
            return None
        raise
    return int(answer["Attributes"]["password_failures"]["N"])
