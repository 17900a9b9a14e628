"""Persistence and AWS calls of the account import and export: the only code of this function that touches them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pynamodb.exceptions import PutError
from riveredge import aws, keys, mail
from riveredge.auth.principal import Principal
from riveredge.db import condition_failed, directory, roles
from riveredge.db.changes import Author, System, change
from riveredge.db.models import Department, Job, Position, Tenant, User
from riveredge.scope import Scope
from riveredge.settings import get_settings
from riveredge.spreadsheets import XLSX_MEDIA_TYPE


# -- reference data -------------------------------------------------------------------
def departments(scope: Scope) -> list[Department]:
    """The whole department tree of `scope`: one Query (per 1 MB page)."""
    results = Department.gsi1.query(keys.department_tree_index(scope))
    return [d for d in results if isinstance(d, Department)]


def positions(scope: Scope) -> list[Position]:
    """Every position of `scope`: one Query (per 1 MB page)."""
    results = Position.query(keys.collection(scope, "POSITION"))
    return [p for p in results if isinstance(p, Position)]


def role_index(scope: Scope) -> dict[str, Any]:
    """The raw role index of `scope` (role id -> code, permissions, parent, data scope): one GetItem."""
    index = roles.current_index(scope)
    return dict(index.roles or {}) if index is not None else {}


def existing_emails(scope: Scope) -> dict[str, str]:
    """Email -> user id of every account of `scope`: a Query of the email index, two attributes projected."""
    results = User.gsi1.query(keys.user_email_index(scope), attributes_to_get=["gsi1sk", "user_id"])
    return {str(u.gsi1sk): str(u.user_id) for u in results if isinstance(u, User) and u.gsi1sk}


def tenant_code(tenant_id: str) -> str:
    tenant = Tenant.find(keys.tenant(tenant_id), consistent=False)
    return tenant.code if tenant else ""


def users_page(
    principal: Principal, wanted: directory.UserFilter, limit: int, cursor: str | None
) -> tuple[list[User], str | None]:
    """A page of the accounts `principal` may see: exactly what GET /api/users lists (one Query)."""
    return directory.page(principal, wanted, limit, cursor)


# -- accounts -------------------------------------------------------------------------
def put_users(users: Sequence[User]) -> None:
    """Store new accounts with one BatchWriteItem per 25 (PynamoDB retries what DynamoDB leaves unprocessed)."""
    with User.batch_write() as batch:
        for user in users:
            user.stamp()
            user.version = 1  # a batch put bypasses PynamoDB's versioning: start where a save would
            batch.save(user)


# -- jobs -----------------------------------------------------------------------------
def find_job(scope: Scope, job_id: str) -> Job | None:
    return Job.find(keys.job(scope, job_id))


def create_job(scope: Scope, job: Job, *, announce: bool = False) -> None:
    """Store a new job; `announce` writes its users.import_queued event with it (which runs the job)."""
    if not announce:
        job.save(condition=Job.pk.does_not_exist())
        return
    with change(System(scope), "job.queue") as c:
        c.create(job, conflict="the job already exists")
        c.publish("users.import_queued", {"job_id": job.job_id}, source="accounts_excel")


def save_job(job: Job) -> None:
    """Save the job at the version read (a conflicting writer fails with PutError)."""
    job.save()


def claim_job(job: Job) -> bool:
    """Move a queued job to running; False when it is not queued any more (a second delivery of the event)."""
    job.status = "running"
    try:
        job.save(condition=Job.status == "queued")
    except PutError as error:
        job.status = "queued"  # as read: this delivery changed nothing
        if condition_failed(error):
            return False
        raise
    return True


def record_import(author: Author, job: Job, *, after: dict[str, Any]) -> None:
    """The job's progress and the operation-log entry of the whole import, in one transaction."""
    with change(author, "user.import") as c:
        c.save(job)
        c.log("user.import", "job", job.job_id, before=None, after=after)


# -- files ----------------------------------------------------------------------------
def read_upload(key: str, max_bytes: int) -> bytes:
    """The uploaded file (at most `max_bytes` + 1 bytes are read: the caller refuses anything longer)."""
    body = aws.s3().get_object(Bucket=get_settings().files_bucket, Key=key)["Body"]
    try:
        return body.read(max_bytes + 1)
    finally:
        body.close()


def put_report(key: str, content: bytes) -> None:
    aws.s3().put_object(Bucket=get_settings().exports_bucket, Key=key, Body=content, ContentType=XLSX_MEDIA_TYPE)


def report_url(key: str, filename: str, expires_in: int) -> str:
    """A presigned GET of a report in the exports bucket (signed locally: no request is made)."""
    return aws.s3().generate_presigned_url(
        "get_object",
        Params={
            "Bucket": get_settings().exports_bucket,
            "Key": key,
            "ResponseContentDisposition": f'attachment; filename="{filename}"',
        },
        ExpiresIn=expires_in,
    )


# -- mail -----------------------------------------------------------------------------
def queue_activations(scope: Scope, tenant_code: str, invites: list[tuple[str, str, str]]) -> None:
    """Queue the set-password links of imported accounts ((email, name, token) each) for the mailer."""
    sends = [([email], mail.activation_context(email, name, tenant_code, token)) for email, name, token in invites]
    mail.send_many_by_template(scope, mail.ACTIVATION, sends)
