"""Account import and export rules: the template, uploads, row checks, import jobs, the export cap.

An import checks every row against the organisation (departments, positions, roles,
existing emails: each read once) and against the importer's authority (their data
scope, the grant bound). Rows with a problem are reported and never stored; the others
become invited accounts, 25 per BatchWriteItem, and each gets its set-password link
by mail once every account is written. Small files are imported in the request; larger
ones by an asynchronous invocation of this function, followed through a job.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, NamedTuple

from riveredge import custom_fields, files, spreadsheets
from riveredge.actor import Actor
from riveredge.auth.principal import Principal
from riveredge.authz import RoleGrant, role_index
from riveredge.clock import new_id, utcnow
from riveredge.db import accounts
from riveredge.db.changes import System
from riveredge.db.directory import UserFilter
from riveredge.db.models import Job, User, map_values
from riveredge.emails import normalise_email
from riveredge.errors import FieldProblem, ForbiddenError, NotFoundError, ValidationError
from riveredge.grants import check_roles_grantable
from riveredge.observability import logger
from riveredge.scope import Scope, use_scope
from riveredge.spreadsheets import XLSX_MEDIA_TYPE

from accounts_excel import repository, workbooks
from accounts_excel.models import ImportRequest

IMPORT_KIND = "user.import"
IMPORT_PERMISSION = "user.import"
# About 500 rows: their writes and mails finish well inside API Gateway's 29 s; larger files go to a job.
SYNC_MAX_BYTES = 16 * 1024
UPLOAD_EXPIRES_SECONDS = 900
REPORT_URL_SECONDS = 900
JOB_DAYS = 30  # jobs expire through the table's TTL
INLINE_PROBLEMS = 200  # problems kept on the job item; the report holds every one
BATCH = 25  # accounts per BatchWriteItem
MAIL_BATCH = 500  # activation mails queued at a time (delivery records in 20 writes, messages in 50 sends)
EXPORT_MAX_ROWS = 10_000
EXPORT_PAGE = 1_000
NAME_MAX = 100
PHONE_MAX = 40
ECHO_MAX = 60  # how much of a cell a problem quotes
REPORT_HEADERS = ("row", "field", "problem")
EXPORT_HEADERS = (*workbooks.HEADERS, "status", "id", "created_at")
ENTITY = "user"  # the custom fields of accounts
_ID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
_UPLOAD_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_ROLE_SEPARATORS = re.compile(r"[,;\uff0c]")


@dataclass(frozen=True)
class Download:
    filename: str
    content: bytes
    media_type: str = XLSX_MEDIA_TYPE


@dataclass(frozen=True)
class Upload:
    url: str
    fields: dict[str, str]
    key: str
    expires_in: int
    max_bytes: int
    content_type: str


@dataclass(frozen=True)
class JobAnswer:
    job: Job
    report_url: str | None
    status_code: int = 200


class Problem(NamedTuple):
    row: int
    field: str
    problem: str


class Accepted(NamedTuple):
    """A row that passed every check, with what it refers to resolved."""

    row: int
    email: str
    name: str
    phone: str | None
    department_id: str | None
    department_path: str | None
    position_id: str | None
    role_ids: frozenset[str]
    custom: dict[str, Any] | None = None


class Invite(NamedTuple):
    row: int
    email: str
    name: str
    token: str


# -- template and upload --------------------------------------------------------------
def _custom_fields(scope: Scope) -> tuple[custom_fields.Definition, ...]:
    return custom_fields.definitions(scope, ENTITY, enabled_only=True)


def _custom_headers(scope: Scope) -> tuple[str, ...]:
    return tuple(custom_fields.excel_header(d) for d in _custom_fields(scope))


def import_template(actor: Actor) -> Download:
    """The template with a column per enabled custom field of accounts (``cf.<key>``)."""
    columns = tuple(
        workbooks.CustomColumn(
            custom_fields.excel_header(d), d.label, d.required, custom_fields.excel_help(actor.scope, d)
        )
        for d in _custom_fields(actor.scope)
    )
    return Download("account-import-template.xlsx", workbooks.template_bytes(columns))


def start_upload(actor: Actor) -> Upload:
    """A presigned POST for a new workbook under the caller's tenant's import prefix (type and size in its policy)."""
    key = f"{_import_prefix(actor.principal)}{new_id()}.xlsx"
    limit = workbooks.LIMITS.file_bytes
    post = files.presigned_upload(key, XLSX_MEDIA_TYPE, limit, UPLOAD_EXPIRES_SECONDS)
    fields = {str(k): str(v) for k, v in post["fields"].items()}
    return Upload(str(post["url"]), fields, key, UPLOAD_EXPIRES_SECONDS, limit, XLSX_MEDIA_TYPE)


def _import_prefix(principal: Principal) -> str:
    return f"{principal.tenant_id}/imports/"


def _key_problem(message: str) -> ValidationError:
    return ValidationError("the upload cannot be imported", errors=[FieldProblem("key", message)])


def _checked_key(actor: Actor, key: str) -> str:
    prefix = _import_prefix(actor.principal)
    if not key.startswith(prefix) or not _UPLOAD_NAME.match(key[len(prefix) :]):
        raise _key_problem("not an upload key of your organisation (ask POST /api/users/imports/uploads for one)")
    return key


# -- import: start --------------------------------------------------------------------
def start_import(actor: Actor, request: ImportRequest, context: Any) -> JobAnswer:
    """Import an uploaded workbook: in the request (200) up to SYNC_MAX_BYTES, else as a queued job (202)."""
    status_code, job = _start(actor, request, context)
    return JobAnswer(job, _report_url(job), status_code)


def _start(actor: Actor, request: ImportRequest, context: Any) -> tuple[int, Job]:
    key = _checked_key(actor, request.key)
    uploaded = files.stored_object(key)
    if uploaded is None:
        raise _key_problem("nothing was uploaded with this key")
    size = uploaded.size
    limits = workbooks.LIMITS
    if size > limits.file_bytes:
        raise ValidationError(
            "the file cannot be imported",
            errors=[FieldProblem("file", f"the file is larger than {limits.file_bytes // (1024 * 1024)} MB")],
        )
    job = Job.new(
        actor.scope,
        new_id(),
        kind=IMPORT_KIND,
        status="queued",
        created_by=actor.principal.user_id,
        dry_run=request.dry_run,
        source_key=key,
        counts=_counts(),
        problems=[],
        problem_count=0,
        principal=actor.principal.to_context(),
        request_id=actor.request_id,
        ttl=utcnow() + timedelta(days=JOB_DAYS),
    )
    if size <= SYNC_MAX_BYTES:
        data = repository.read_upload(key, limits.file_bytes)
        rows = workbooks.read_rows(data, custom=_custom_headers(actor.scope))  # a bad file: 422, no job
        job.status = "running"
        repository.create_job(actor.scope, job)
        _run(actor.principal, job, rows)
        return 200, job
    repository.create_job(actor.scope, job, announce=True)  # its users.import_queued event starts the job (outbox)
    return 202, job


# -- import: the job ------------------------------------------------------------------
def run_job(tenant_id: str, job_id: str) -> str:
    """Run a queued import job (its users.import_queued event); answers the job's status.

    Nothing is raised for a bad job (Lambda would retry the event): a second delivery finds the
    job no longer queued and does nothing; a failure is recorded on the job.
    """
    try:
        scope = Scope(tenant_id)
    except ValueError:
        logger.warning("import job for a malformed tenant id ignored", extra={"job_id": job_id})
        return "ignored"
    with use_scope(scope):
        job: Job | None = repository.find_job(scope, job_id) if _ID.match(job_id) else None
        if job is None or job.kind != IMPORT_KIND:
            logger.warning("import job not found", extra={"job_id": job_id})
            return "missing"
        if job.status == "queued" and repository.claim_job(job):
            _run_claimed(tenant_id, job)
        return job.status


def _run_claimed(tenant_id: str, job: Job) -> None:
    principal = Principal.from_context(job.principal)
    if principal is None or principal.tenant_id != tenant_id or not job.source_key:
        _fail(job, "the job does not say who imports what")
        return
    rows = _job_rows(job, job.source_key, principal.scope)
    if rows is None:
        return
    try:
        _run(principal, job, rows)
    except Exception:  # recorded on the job by _run; raising would only make Lambda retry the event
        logger.exception("an import job stopped", extra={"job_id": job.job_id})


def _job_rows(job: Job, key: str, scope: Scope) -> list[workbooks.SheetRow] | None:
    """The rows of a job's file, or None when the file is refused (the job then failed, saying why)."""
    try:
        limits = workbooks.LIMITS
        data = repository.read_upload(key, limits.file_bytes)
        rows: list[workbooks.SheetRow] = workbooks.read_rows(data, limits, _custom_headers(scope))
    except ValidationError as error:
        _fail(job, "; ".join([error.detail, *(e.message for e in error.errors)]))
    except Exception:
        logger.exception("an import file could not be read", extra={"job_id": job.job_id})
        _fail(job, "the file could not be read")
    else:
        return rows
    return None


def _run(principal: Principal, job: Job, rows: Sequence[workbooks.SheetRow]) -> None:
    """Import `rows` for `job`; on an unexpected error the job is marked failed and the error raised."""
    try:
        _import(principal, job, rows)
    except Exception:
        created = int((job.counts or {}).get("created", 0))
        _fail(job, f"the import stopped unexpectedly after creating {created} accounts; they remain")
        raise


def _fail(job: Job, message: str) -> None:
    job.status, job.error, job.finished_at = "failed", message, utcnow()
    try:
        repository.save_job(job)
    except Exception:  # the job item could not be updated: the log keeps what happened
        logger.exception("a failed import job could not be recorded", extra={"job_id": job.job_id})


def _counts(**values: int) -> dict[str, int]:
    return {"rows": 0, "valid": 0, "created": 0, "rejected": 0, "mailed": 0, "mail_failed": 0, **values}


def _import(principal: Principal, job: Job, rows: Sequence[workbooks.SheetRow]) -> None:
    scope = principal.scope
    accepted, problems = RowChecker(principal, load_reference(scope)).check(rows)
    rejected = len({p.row for p in problems})
    counts = _counts(rows=len(rows), valid=len(accepted), rejected=rejected)
    job.counts = counts
    invites: list[Invite] = []
    if not job.dry_run and accepted:
        try:
            for start in range(0, len(accepted), BATCH):
                users, tokens = _new_users(scope, principal.user_id, accepted[start : start + BATCH])
                repository.put_users(users)
                invites.extend(tokens)
                counts["created"] = len(invites)
        finally:
            if counts["created"]:
                job.counts = dict(counts)
                repository.record_import(System(scope, principal.user_id, job.request_id), job, after=dict(counts))
    if invites:
        failures = _send_activations(scope, repository.tenant_code(principal.tenant_id), invites)
        counts["mailed"], counts["mail_failed"] = len(invites) - len(failures), len(failures)
        problems = sorted([*problems, *failures], key=lambda p: p.row)
    report_key = f"{principal.tenant_id}/reports/{job.job_id}.xlsx"
    repository.put_report(report_key, spreadsheets.workbook_bytes("Report", REPORT_HEADERS, problems))
    job.status, job.finished_at, job.report_key = "succeeded", utcnow(), report_key
    job.counts = dict(counts)
    job.problems = [p._asdict() for p in problems[:INLINE_PROBLEMS]]
    job.problem_count = len(problems)
    repository.save_job(job)


def _new_users(scope: Scope, actor_id: str, rows: Sequence[Accepted]) -> tuple[list[User], list[Invite]]:
    users: list[User] = []
    invites: list[Invite] = []
    for row in rows:
        user = User.new(
            scope,
            new_id(),
            row.email,
            name=row.name,
            phone=row.phone,
            position_id=row.position_id,
            role_ids=set(row.role_ids) or None,
            created_by=actor_id,
            custom_fields=row.custom,
        )
        user.place(row.department_id, row.department_path)
        token = accounts.invite(user)
        users.append(user)
        invites.append(Invite(row.row, user.email, row.name, token))
    return users, invites


def _send_activations(scope: Scope, tenant_code: str, invites: Sequence[Invite]) -> list[Problem]:
    """Queue every set-password link (the mailer sends them at the SES rate); a batch the queue refuses is
    reported row by row."""
    problems: list[Problem] = []
    for start in range(0, len(invites), MAIL_BATCH):
        chunk = invites[start : start + MAIL_BATCH]
        try:
            repository.queue_activations(scope, tenant_code, [(i.email, i.name, i.token) for i in chunk])
        except Exception as error:  # one refused batch must not stop the others
            logger.warning("activation mails not queued", extra={"rows": len(chunk), "reason": str(error)[:200]})
            problems.extend(
                Problem(i.row, "email", "the account was created but its activation mail could not be queued")
                for i in chunk
            )
    return problems


# -- import: row checks ---------------------------------------------------------------
class Place(NamedTuple):
    id: str
    path: str


class PositionRef(NamedTuple):
    id: str
    department_id: str


@dataclass(frozen=True)
class Reference:
    """What rows refer to, read once per import: codes -> departments / positions, role names, taken emails."""

    departments: Mapping[str, Place]  # by lower-case code
    positions: Mapping[str, PositionRef]  # by lower-case code
    roles: Mapping[str, str]  # role name (code) -> id
    grants: Mapping[str, RoleGrant]
    emails: Mapping[str, str]  # lower-case email -> user id of the accounts there are

    def role_id(self, name: str) -> str | None:
        if name in self.roles:
            return self.roles[name]
        folded = name.lower()
        return next((rid for code, rid in self.roles.items() if code.lower() == folded), None)


def load_reference(scope: Scope) -> Reference:
    grants = role_index(repository.role_index(scope))
    return Reference(
        departments={d.code.lower(): Place(d.department_id, d.path) for d in repository.departments(scope)},
        positions={p.code.lower(): PositionRef(p.position_id, p.department_id) for p in repository.positions(scope)},
        roles={g.code: g.role_id for g in grants.values()},
        grants=grants,
        emails={e.lower(): user_id for e, user_id in repository.existing_emails(scope).items()},
    )


def _echo(text: str) -> str:
    return text if len(text) <= ECHO_MAX else f"{text[: ECHO_MAX - 1]}…"


class RowChecker:
    """Checks rows one by one; remembers the emails seen so far and what each role may be given."""

    def __init__(self, principal: Principal, reference: Reference) -> None:
        self.principal = principal
        self.reference = reference
        self.seen: dict[str, int] = {}
        self.role_verdicts: dict[str, list[str]] = {}
        self.fields = {custom_fields.excel_header(d): d for d in _custom_fields(principal.scope)}
        self.user_ids = frozenset(reference.emails.values())
        self.department_ids = frozenset(p.id for p in reference.departments.values())

    def check(self, rows: Sequence[workbooks.SheetRow]) -> tuple[list[Accepted], list[Problem]]:
        accepted: list[Accepted] = []
        problems: list[Problem] = []
        for row in rows:
            found: list[Problem] = []
            result = self._row(row, found)
            if found:
                problems.extend(found)
            elif result is not None:
                accepted.append(result)
        return accepted, problems

    def _row(self, row: workbooks.SheetRow, problems: list[Problem]) -> Accepted | None:
        def problem(field: str, message: str) -> None:
            problems.append(Problem(row.number, field, message))

        email = self._email(row, problem)
        if not row.name:
            problem("name", "required")
        elif len(row.name) > NAME_MAX:
            problem("name", f"at most {NAME_MAX} characters")
        if len(row.phone) > PHONE_MAX:
            problem("phone", f"at most {PHONE_MAX} characters")
        place = self._department(row, problem)
        position_id = self._position(row, place, problem)
        role_ids = self._roles(row, problem)
        custom = self._custom(row, problem)
        if problems or email is None:
            return None
        return Accepted(
            row.number,
            email,
            row.name,
            row.phone or None,
            place.id if place else None,
            place.path if place else None,
            position_id,
            role_ids,
            custom,
        )

    def _resolve(self, kind: str, text: str) -> str | None:
        """A department's code or an account's email, as its id."""
        if kind == "department":
            place = self.reference.departments.get(text.lower())
            return place.id if place else None
        return self.reference.emails.get(text.lower())

    def _known(self, kind: str, value: str) -> bool:
        return value in (self.department_ids if kind == "department" else self.user_ids)

    def _custom(self, row: workbooks.SheetRow, problem: Any) -> dict[str, Any] | None:
        """The row's custom-field values, checked as an account's create checks them (problems per column)."""
        scope = self.principal.scope
        given: dict[str, Any] = {}
        for header, text in row.custom.items():
            value = custom_fields.import_value(scope, self.fields[header], text, resolve=self._resolve)
            if value is not None:  # an empty cell: the field's default, if it has one
                given[self.fields[header].key] = value
        try:
            return custom_fields.validate(scope, ENTITY, given, creating=True, field="cf", known=self._known)
        except ValidationError as error:
            for found in error.errors:
                problem(found.field, found.message)
            return None

    def _email(self, row: workbooks.SheetRow, problem: Any) -> str | None:
        if not row.email:
            problem("email", "required")
            return None
        try:
            email = normalise_email(row.email).lower()
        except ValueError as error:
            problem("email", str(error))
            return None
        first = self.seen.get(email)
        if first is not None:
            problem("email", f"the same email is in row {first} already")
            return None
        self.seen[email] = row.number
        if email in self.reference.emails:
            problem("email", "an account with this email exists already")
            return None
        return email

    def _department(self, row: workbooks.SheetRow, problem: Any) -> Place | None:
        scope = self.principal.data_scope
        if not row.department_code:
            if not scope.all:
                problem("department_code", "required: you can import accounts only into departments you can see")
            return None
        place = self.reference.departments.get(row.department_code.lower())
        if place is None:
            problem("department_code", f"no department has the code {_echo(row.department_code)}")
            return None
        if not scope.covers_department(place.id, place.path):
            problem("department_code", "this department is outside your data scope")
            return None
        return place

    def _position(self, row: workbooks.SheetRow, place: Place | None, problem: Any) -> str | None:
        if not row.position_code:
            return None
        position = self.reference.positions.get(row.position_code.lower())
        if position is None:
            problem("position_code", f"no position has the code {_echo(row.position_code)}")
            return None
        if not row.department_code:
            problem("position_code", "a position needs the department_code of its department")
            return None
        if place is not None and position.department_id != place.id:
            problem(
                "position_code",
                f"the position {_echo(row.position_code)} does not belong to the department "
                f"{_echo(row.department_code)}",
            )
            return None
        return position.id

    def _roles(self, row: workbooks.SheetRow, problem: Any) -> frozenset[str]:
        found: set[str] = set()
        for name in (n.strip() for n in _ROLE_SEPARATORS.split(row.roles)):
            if not name:
                continue
            role_id = self.reference.role_id(name)
            if role_id is None:
                problem("roles", f"no role is named {_echo(name)}")
                continue
            refusals = self._verdict(role_id)
            for message in refusals:
                problem("roles", message)
            if not refusals:
                found.add(role_id)
        return frozenset(found)

    def _verdict(self, role_id: str) -> list[str]:
        """Why the importer may not give `role_id` (empty: they may); worked out once per role."""
        if role_id not in self.role_verdicts:
            try:
                check_roles_grantable(self.principal, self.reference.grants, [role_id], field="roles")
                self.role_verdicts[role_id] = []
            except ForbiddenError as error:
                self.role_verdicts[role_id] = [e.message for e in error.errors] or [error.detail]
        return self.role_verdicts[role_id]


# -- jobs -----------------------------------------------------------------------------
def get_job(actor: Actor, job_id: str) -> JobAnswer:
    """A job of the caller's organisation, for its creator or a holder of user.import (anyone else: 404)."""
    job = repository.find_job(actor.scope, job_id) if _ID.match(job_id) else None
    principal = actor.principal
    if job is None or (job.created_by != principal.user_id and not principal.can(IMPORT_PERMISSION)):
        raise NotFoundError("no such job")
    return JobAnswer(job, _report_url(job))


def _report_url(job: Job) -> str | None:
    if not job.report_key:
        return None
    return str(repository.report_url(job.report_key, f"import-report-{job.job_id}.xlsx", REPORT_URL_SECONDS))


# -- export ---------------------------------------------------------------------------
def export_users(actor: Actor, wanted: UserFilter) -> Download:
    """The accounts GET /api/users lists for the same filters and caller, as xlsx; more than 10,000 is a 422."""
    rows: list[list[Any]] = []
    names: _Names | None = None
    cursor: str | None = None
    while True:
        users, cursor = repository.users_page(actor.principal, wanted, EXPORT_PAGE, cursor)
        if users and names is None:
            names = _names(actor.scope)
        if len(rows) + len(users) > EXPORT_MAX_ROWS:
            raise ValidationError(
                f"more than {EXPORT_MAX_ROWS} accounts match; narrow the filters",
                errors=[
                    FieldProblem(
                        "department_id",
                        f"choose department_id, status, role_id or q so that at most {EXPORT_MAX_ROWS} accounts match",
                    )
                ],
            )
        if names is not None:
            rows.extend(names.row(user, actor.scope) for user in users)
        if cursor is None:
            break
    columns = _custom_fields(actor.scope)
    headers = (*EXPORT_HEADERS, *(custom_fields.excel_header(d) for d in columns))
    content = spreadsheets.workbook_bytes("Accounts", headers, rows)
    return Download(f"accounts-{utcnow().strftime('%Y%m%dT%H%M%SZ')}.xlsx", content)


@dataclass(frozen=True)
class _Names:
    """Codes of the departments, positions and roles accounts refer to by id."""

    departments: Mapping[str, str]
    positions: Mapping[str, str]
    roles: Mapping[str, str]

    def row(self, user: User, scope: Scope) -> list[Any]:
        role_codes = sorted(self.roles.get(r, r) for r in (user.role_ids or set()))
        values = custom_fields.present(scope, ENTITY, map_values(user.custom_fields))
        extra = [custom_fields.export_cell(d, values.get(d.key)) for d in _custom_fields(scope)]
        return [
            user.email,
            user.name,
            user.phone,
            self.departments.get(user.department_id or "", user.department_id),
            self.positions.get(user.position_id or "", user.position_id),
            ", ".join(role_codes),
            user.status,
            user.user_id,
            user.created_at.strftime("%Y-%m-%dT%H:%M:%SZ") if user.created_at else "",
            *extra,
        ]


def _names(scope: Scope) -> _Names:
    grants = role_index(repository.role_index(scope))
    return _Names(
        departments={d.department_id: d.code for d in repository.departments(scope)},
        positions={p.position_id: p.code for p in repository.positions(scope)},
        roles={g.role_id: g.code for g in grants.values()},
    )
