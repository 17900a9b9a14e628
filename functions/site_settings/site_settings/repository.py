"""Site-settings persistence: the only code of this function that touches DynamoDB and S3."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError
from riveredge import aws, config_cache, keys, site
from riveredge.actor import Actor
from riveredge.db.changes import change
from riveredge.db.identity import tenant_id_for_code
from riveredge.db.models import SiteSettings, Tenant
from riveredge.scope import Scope
from riveredge.settings import get_settings


def find(scope: Scope) -> SiteSettings | None:
    return SiteSettings.find(keys.site_settings(scope))


def tenant(scope: Scope) -> Tenant | None:
    return Tenant.find(keys.tenant(scope.tenant_id), consistent=False)


def tenant_id(code: str) -> str | None:
    return tenant_id_for_code(code)


def save(
    actor: Actor,
    settings: SiteSettings,
    tenant: Tenant,
    *,
    before: dict[str, Any] | None,
    password_policy: dict[str, Any],
    session_seconds: int | None,
) -> None:
    """The settings document, `tenant`'s copy of what sign-in obeys, the `site` stamp and the log entry: one
    transaction (a first save creates the document, on the condition that none exists yet)."""
    with change(actor, "site.update", settings, before=before) as c:
        if before is None:
            c.create(settings, conflict="the site settings were saved meanwhile; read them again")
        else:
            c.save(settings, stale="the site settings have changed since they were read; read them again")
        session = Tenant.session_seconds.set(session_seconds) if session_seconds else Tenant.session_seconds.remove()
        c.update(
            tenant,
            [Tenant.password_policy.set(password_policy), session],
            condition=Tenant.pk.exists(),
            versioned=False,  # two attributes of their own: a concurrent change of the tenant is not refused
            missing="no such organisation",
        )
        config_cache.bump(c, site.KIND)


# -- images (S3) -----------------------------------------------------------------------
def presigned_upload(key: str, content_type: str, max_bytes: int, expires_in: int) -> dict[str, Any]:
    """A presigned POST for `key` in the files bucket: that type only, 1 byte to `max_bytes`."""
    return aws.s3().generate_presigned_post(
        Bucket=get_settings().files_bucket,
        Key=key,
        Fields={"Content-Type": content_type},
        Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]],
        ExpiresIn=expires_in,
    )


@dataclass(frozen=True)
class StoredObject:
    content_type: str
    size: int


def stored_object(key: str) -> StoredObject | None:
    """What the files bucket holds under `key`, or None when it holds nothing there."""
    try:
        head = aws.s3().head_object(Bucket=get_settings().files_bucket, Key=key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
            return None
        raise
    return StoredObject(str(head.get("ContentType", "")), int(head.get("ContentLength", 0)))


def download_url(key: str, expires_in: int) -> str:
    """A presigned GET of `key` in the files bucket (signed locally: no request is made)."""
    return aws.s3().generate_presigned_url(
        "get_object", Params={"Bucket": get_settings().files_bucket, "Key": key}, ExpiresIn=expires_in
    )
