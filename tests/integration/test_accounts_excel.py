"""Accounts as Excel: the import template, imports checked row by row (large ones as jobs), the export."""

from __future__ import annotations

import hashlib
import io
import math
import os
import re
import uuid
import zipfile
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlparse

import boto3
import pytest
from openpyxl import Workbook, load_workbook
from riveredge import keys
from riveredge.clock import new_id
from riveredge.db.models import Job, OperationLogEntry, OutboxEvent, User
from riveredge.scope import Scope, use_scope
from riveredge.spreadsheets import XLSX_MEDIA_TYPE

from local_stack.stack import LocalStack, Reply
from tests.integration.accounts import make_role, make_user
from tests.integration.conftest import Account, InProcess, TenantFixture, login, make_tenant
from tests.support import PASSWORD, claims_of, dynamodb_calls, problem_without_request_id

HEADERS = ["email", "name", "phone", "department_code", "position_code", "roles"]
MISSING_JOB = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


# -- fixtures and helpers ----------------------------------------------------------------
@dataclass
class Org:
    """A tenant of this module's own, with two departments and a position in each."""

    tenant: TenantFixture
    eng: dict[str, Any]
    ops: dict[str, Any]
    engineer: dict[str, Any]
    operator: dict[str, Any]


def _code(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _created(reply: Reply) -> dict[str, Any]:
    assert reply.status == 201, reply.body
    return dict(reply.json())


@pytest.fixture(scope="module")
def org(stack: LocalStack, operator: Account) -> Org:
    tenant = make_tenant(stack, operator, f"xl-{uuid.uuid4().hex[:8]}")

    def department(name: str) -> dict[str, Any]:
        body = {"name": name, "code": _code(name[:3].upper())}
        return _created(stack.request("POST", "/api/departments", token=tenant.admin_token, json_body=body))

    def position(department_id: str, name: str) -> dict[str, Any]:
        body = {"department_id": department_id, "name": name, "code": _code(name[:3].upper())}
        return _created(stack.request("POST", "/api/positions", token=tenant.admin_token, json_body=body))

    eng, ops = department("Engineering"), department("Operations")
    return Org(tenant, eng, ops, position(eng["id"], "Engineer"), position(ops["id"], "Operator"))


def _email(tag: str = "p") -> str:
    return f"{tag}-{uuid.uuid4().hex[:10]}@people.example"


class Text(str):
    """A cell value written as text even when it starts with '=' (openpyxl would write a formula)."""


def _workbook(rows: Sequence[Sequence[Any]], headers: Sequence[str] = HEADERS) -> bytes:
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Accounts")
    sheet.append(list(headers))
    for row in rows:
        cells: list[Any] = []
        for value in row:
            if isinstance(value, Text):
                cell = WriteOnlyCell(sheet, str(value))
                cell.data_type = "s"
                cells.append(cell)
            else:
                cells.append(value)
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _replace_member(xlsx: bytes, name: str, content: bytes | str) -> bytes:
    """`xlsx` with the content of its member `name` replaced."""
    source = zipfile.ZipFile(io.BytesIO(xlsx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for member in source.infolist():
            archive.writestr(member.filename, content if member.filename == name else source.read(member))
    return out.getvalue()


def _padded(xlsx: bytes, size: int = 300_000) -> bytes:
    """`xlsx` made larger than an in-request import by a part nothing refers to (random, so it stays large)."""
    out = io.BytesIO(xlsx)
    with zipfile.ZipFile(out, "a") as archive:
        archive.writestr("xl/media/padding.bin", os.urandom(size), compress_type=zipfile.ZIP_STORED)
    return out.getvalue()


def _upload(stack: LocalStack, tenant_id: str, content: bytes) -> str:
    """Put `content` where an upload form of `tenant_id` would have put it; answers the key."""
    key = f"{tenant_id}/imports/{new_id()}.xlsx"
    boto3.client("s3").put_object(
        Bucket=stack.environment["FILES_BUCKET"], Key=key, Body=content, ContentType=XLSX_MEDIA_TYPE
    )
    return key


def _import(
    stack: LocalStack, token: str, key: str, *, dry_run: bool = False, headers: dict[str, str] | None = None
) -> Reply:
    return stack.request(
        "POST", "/api/users/imports", token=token, json_body={"key": key, "dry_run": dry_run}, headers=headers
    )


def _import_rows(stack: LocalStack, tenant: TenantFixture, rows: Sequence[Sequence[Any]], **options: Any) -> Reply:
    return _import(stack, tenant.admin_token, _upload(stack, tenant.id, _workbook(rows)), **options)


def _stored(tenant: TenantFixture, email: str) -> User | None:
    """The account of `tenant` with `email`, read from the table (None: not stored)."""
    scope = Scope(tenant.id)
    with use_scope(scope):
        found = list(User.gsi1.query(keys.user_email_index(scope), User.gsi1sk == email.lower()))
    return found[0] if found else None


def _mail_to(stack: LocalStack, email: str) -> list[dict[str, Any]]:
    return [m for m in stack.sent_mail() if email in m["to"]]


def _activation_link(stack: LocalStack, email: str) -> str:
    body = _mail_to(stack, email)[-1]["body"]
    return re.search(r'href="([^"]+)"', body).group(1).replace("&amp;", "&")  # type: ignore[union-attr]


def _sheet(content: bytes, title: str | None = None) -> list[tuple[Any, ...]]:
    workbook = load_workbook(io.BytesIO(content))
    sheet = workbook[title] if title else workbook.worksheets[0]
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]


def _problems(body: dict[str, Any]) -> set[tuple[int, str]]:
    return {(p["row"], p["field"]) for p in body["problems"]}


def _job_role(stack: LocalStack, tenant: TenantFixture, permissions: list[str], **role: Any) -> dict[str, Any]:
    """An account of `tenant` holding one role with `permissions`: id, email and token."""
    made = make_role(stack, tenant.admin_token, permissions, **role)
    return make_user(stack, tenant.id, tenant.code, [made["id"]])


# -- template ----------------------------------------------------------------------------
def test_the_template_downloads_as_a_workbook_with_the_import_headers(stack: LocalStack, acme: TenantFixture) -> None:
    # When acme's admin downloads the import template
    reply = stack.request("GET", "/api/users/import-template", token=acme.admin_token)
    # Then it is an xlsx attachment whose Accounts sheet holds exactly the header row, with instructions beside it
    assert reply.status == 200
    assert reply.content_type == XLSX_MEDIA_TYPE
    assert reply.headers["Content-Disposition"].startswith("attachment;")
    assert _sheet(reply.body, "Accounts") == [tuple(HEADERS)]
    instructions = _sheet(reply.body, "Instructions")
    assert {row[0] for row in instructions} >= set(HEADERS)


# -- uploads -----------------------------------------------------------------------------
def test_an_upload_form_posts_a_workbook_under_the_tenants_import_prefix(
    stack: LocalStack, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    # When the admin asks for an upload form
    reply = stack.request("POST", "/api/users/imports/uploads", token=org.tenant.admin_token)
    # Then it is a presigned POST for a new key under the tenant's import prefix, for an xlsx of at most 20 MB
    assert reply.status == 200
    form = reply.json()
    assert re.fullmatch(rf"{org.tenant.id}/imports/[0-9A-Z]{{26}}\.xlsx", form["key"])
    assert form["fields"]["key"] == form["key"]
    assert form["fields"]["Content-Type"] == XLSX_MEDIA_TYPE
    assert form["expires_in"] == 900
    assert form["max_bytes"] == 20 * 1024 * 1024
    # And a workbook posted through the form imports
    import requests

    email = _email()
    workbook = _workbook([[email, "Form Upload"]])
    posted = requests.post(
        form["url"], data=form["fields"], files={"file": ("a.xlsx", workbook, XLSX_MEDIA_TYPE)}, timeout=10
    )
    assert posted.status_code in (200, 204), posted.text
    imported = _import(stack, org.tenant.admin_token, form["key"])
    assert imported.status == 200, imported.body
    assert imported.json()["counts"]["created"] == 1


# -- a small import ----------------------------------------------------------------------
def test_a_small_import_stores_the_good_rows_as_invited_accounts_and_reports_the_bad_ones(
    stack: LocalStack, org: Org
) -> None:
    # Given a workbook with two good rows and five bad ones
    good_full, good_bare = _email("full"), _email("bare")
    bad = [_email(f"bad{i}") for i in range(5)]
    rows = [
        [good_full, "Grace Full", 8613800000000, org.eng["code"], org.engineer["code"], "user"],
        [good_bare, "Bare Bones", None, org.ops["code"].lower(), None, None],
        ["not-an-email", "Nobody"],
        [bad[0], None, "1", org.eng["code"]],
        [bad[1], "No Such Department", None, "NOPE-1"],
        [bad[2], "Wrong Position", None, org.ops["code"], org.engineer["code"]],
        [bad[3], "Unknown Role", None, org.eng["code"], None, "user, wizard"],
        [bad[4], "X" * 101, "9" * 41],
    ]
    # When the admin imports it
    reply = _import_rows(stack, org.tenant, rows)
    # Then the good rows are created and every problem is reported with its sheet row, field and reason
    assert reply.status == 200, reply.body
    job = reply.json()
    assert job["status"] == "succeeded" and job["kind"] == "user.import" and not job["dry_run"]
    assert job["counts"] == {"rows": 8, "valid": 2, "created": 2, "rejected": 6, "mailed": 2, "mail_failed": 0}
    assert _problems(job) == {
        (4, "email"),
        (5, "name"),
        (6, "department_code"),
        (7, "position_code"),
        (8, "roles"),
        (9, "name"),
        (9, "phone"),
    }
    assert job["problem_count"] == 7 and not job["problems_truncated"]
    assert next(p for p in job["problems"] if p["row"] == 8)["problem"] == "no role is named wizard"
    assert job["report_url"]
    # And the good accounts are invited, placed in their departments, with their position and roles
    full = _stored(org.tenant, good_full)
    assert full is not None and full.status == "invited" and full.name == "Grace Full"
    assert (full.department_id, full.department_path) == (org.eng["id"], org.eng["path"])
    assert full.position_id == org.engineer["id"] and full.phone == "8613800000000"
    assert full.activation_digest and full.version == 1
    bare = _stored(org.tenant, good_bare)
    assert bare is not None and bare.department_id == org.ops["id"] and not bare.role_ids and not bare.phone
    # And none of the bad rows is stored
    assert all(_stored(org.tenant, email) is None for email in bad)
    # And the accounts list shows the imported ones as invited
    listed = stack.request("GET", f"/api/users?q={good_full}", token=org.tenant.admin_token).json()["items"]
    assert [(u["email"], u["status"]) for u in listed] == [(good_full, "invited")]


def test_an_imported_account_activates_through_its_mailed_link(stack: LocalStack, org: Org) -> None:
    # Given an account imported by the admin
    email = _email("act")
    assert _import_rows(stack, org.tenant, [[email, "Ada Activate", None, org.eng["code"]]]).status == 200
    # Then its set-password link was mailed, to the web app, naming the tenant
    link = _activation_link(stack, email)
    query = parse_qs(urlparse(link).query)
    assert urlparse(link).path == "/activate" and query["tenant"] == [org.tenant.code]
    stored = _stored(org.tenant, email)
    assert stored is not None
    assert hashlib.sha256(query["token"][0].split(".")[2].encode()).hexdigest() == stored.activation_digest
    # And the link activates the account, which can then sign in
    assert login(stack, org.tenant.code, email).status == 401
    body = {"tenant": org.tenant.code, "token": query["token"][0], "password": PASSWORD}
    assert stack.request("POST", "/api/public/activate", json_body=body).status == 200
    assert login(stack, org.tenant.code, email).status == 200


def test_an_import_writes_its_accounts_25_per_batch_and_logs_once(stack: LocalStack, org: Org) -> None:
    # Given a workbook of 60 good rows
    rows = [[_email("batch"), f"Batch {i}", None, org.eng["code"]] for i in range(60)]
    key = _upload(stack, org.tenant.id, _workbook(rows))
    # When it is imported
    with dynamodb_calls("AccountsExcelFunction") as calls:
        reply = _import(stack, org.tenant.admin_token, key)
    # Then the accounts, and the delivery records of their activation mails, go in BatchWriteItem requests
    # of 25, beside a few writes for the job and the log
    assert reply.status == 200 and reply.json()["counts"]["created"] == 60
    assert calls["BatchWriteItem"] == 2 * math.ceil(60 / 25)
    assert sum(n for op, n in calls.items() if op in WRITES) <= 2 * math.ceil(60 / 25) + 3
    # And one operation-log entry records the whole import with its counts
    scope = Scope(org.tenant.id)
    with use_scope(scope):
        entries = [
            e
            for e in OperationLogEntry.query(keys.collection(scope, "OPLOG"))
            if isinstance(e, OperationLogEntry) and e.resource_id == reply.json()["id"]
        ]
    assert [(e.action, e.after["created"]) for e in entries] == [("user.import", 60)]  # type: ignore[index]


def test_a_dry_run_reports_but_stores_and_mails_nothing(stack: LocalStack, org: Org) -> None:
    # Given a workbook with a good row and a bad one
    good = _email("dry")
    rows = [[good, "Dry Run", None, org.eng["code"]], ["broken", "Broken"]]
    # When the admin imports it as a dry run
    reply = _import_rows(stack, org.tenant, rows, dry_run=True)
    # Then the report is the same as a real import's, but nothing is created or mailed
    assert reply.status == 200, reply.body
    job = reply.json()
    assert job["dry_run"] and job["status"] == "succeeded"
    assert job["counts"] == {"rows": 2, "valid": 1, "created": 0, "rejected": 1, "mailed": 0, "mail_failed": 0}
    assert _problems(job) == {(3, "email")}
    assert _stored(org.tenant, good) is None
    assert _mail_to(stack, good) == []


def test_a_repeated_email_is_refused_in_its_second_row_and_against_existing_accounts(
    stack: LocalStack, org: Org
) -> None:
    # Given a workbook naming one email twice (in other case) and the admin's own email
    email = _email("twice")
    rows = [
        [email, "First", None, org.eng["code"]],
        [email.upper(), "Second", None, org.eng["code"]],
        [org.tenant.admin_email, "Admin Again", None, org.eng["code"]],
    ]
    # When it is imported
    reply = _import_rows(stack, org.tenant, rows)
    # Then the first occurrence is created, the second is the bad row, and the existing account is refused
    job = reply.json()
    assert job["counts"]["created"] == 1
    assert {(p["row"], p["field"], p["problem"]) for p in job["problems"]} == {
        (3, "email", "the same email is in row 2 already"),
        (4, "email", "an account with this email exists already"),
    }
    stored = _stored(org.tenant, email)
    assert stored is not None and stored.name == "First"
    # And a second import of the same email is refused as existing
    again = _import_rows(stack, org.tenant, [[email, "Third", None, org.eng["code"]]]).json()
    assert again["counts"]["created"] == 0 and _problems(again) == {(2, "email")}


def test_the_same_idempotency_key_imports_once(stack: LocalStack, org: Org) -> None:
    # Given an uploaded workbook
    email = _email("idem")
    key = _upload(stack, org.tenant.id, _workbook([[email, "Once", None, org.eng["code"]]]))
    headers = {"Idempotency-Key": f"import-{uuid.uuid4().hex}"}
    # When it is imported twice with the same Idempotency-Key
    first = _import(stack, org.tenant.admin_token, key, headers=headers)
    second = _import(stack, org.tenant.admin_token, key, headers=headers)
    # Then the second answer is the first job, and the account was created (and mailed) once
    assert first.status == second.status == 200
    assert second.json()["id"] == first.json()["id"]
    assert second.json()["counts"]["created"] == 1
    assert len(_mail_to(stack, email)) == 1


def test_mail_the_queue_refuses_is_reported_on_its_rows_and_the_accounts_are_kept(
    stack: LocalStack, org: Org, monkeypatch: pytest.MonkeyPatch, in_process: InProcess
) -> None:
    in_process("AccountsExcelFunction")  # the test patches its modules
    from accounts_excel import repository

    # Given a mail queue that refuses the activation mail of one address
    refused, accepted = _email("refused"), _email("accepted")
    original = repository.queue_activations

    def flaky(scope: Scope, tenant_code: str, invites: list[tuple[str, str, str]]) -> None:
        if any(email == refused for email, _, _ in invites):
            raise RuntimeError("queue unavailable")
        original(scope, tenant_code, invites)

    monkeypatch.setattr(repository, "queue_activations", flaky)
    monkeypatch.setattr("accounts_excel.service.MAIL_BATCH", 1)
    # When both are imported
    reply = _import_rows(stack, org.tenant, [[refused, "Refused", None, org.eng["code"]], [accepted, "Ok"]])
    # Then both accounts exist, one mail went out, and the other is reported on its row
    job = reply.json()
    assert job["status"] == "succeeded"
    assert job["counts"]["created"] == 2 and job["counts"]["mailed"] == 1 and job["counts"]["mail_failed"] == 1
    assert [(p["row"], p["field"]) for p in job["problems"]] == [(2, "email")]
    assert "activation mail could not be queued" in job["problems"][0]["problem"]
    assert _stored(org.tenant, refused) is not None
    assert len(_mail_to(stack, accepted)) == 1
    assert _mail_to(stack, refused) == []


# -- files that are refused --------------------------------------------------------------
def _refused_file(reply: Reply) -> str:
    assert reply.status == 422, reply.body
    body = reply.json()
    assert body["type"] == "/problems/validation-error"
    assert [e["field"] for e in body["errors"]] == ["file"]
    return str(body["errors"][0]["message"])


@pytest.mark.parametrize(
    "content",
    [
        b"email,name\nx@y.example,Someone\n",
        b"PK\x03\x04 not really a zip",
        b"",
    ],
    ids=["csv", "broken-zip", "empty"],
)
def test_a_file_that_is_not_an_xlsx_is_refused(stack: LocalStack, org: Org, content: bytes) -> None:
    # When a file that is not a workbook is imported
    reply = _import(stack, org.tenant.admin_token, _upload(stack, org.tenant.id, content))
    # Then it is a 422 naming the file
    assert "not an xlsx" in _refused_file(reply)


def test_a_zip_that_is_not_a_workbook_is_refused(stack: LocalStack, org: Org) -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("hello.txt", "hello")
    reply = _import(stack, org.tenant.admin_token, _upload(stack, org.tenant.id, archive.getvalue()))
    assert "not an xlsx" in _refused_file(reply)


def test_a_workbook_with_a_broken_sheet_is_refused(stack: LocalStack, org: Org) -> None:
    broken = _replace_member(_workbook([[_email(), "A"]]), "xl/worksheets/sheet1.xml", "<worksheet><sheetData><row")
    reply = _import(stack, org.tenant.admin_token, _upload(stack, org.tenant.id, broken))
    assert "not a readable xlsx" in _refused_file(reply)


def test_a_workbook_with_an_entity_declaration_is_refused(stack: LocalStack, org: Org) -> None:
    # Given a sheet that declares an XML entity (the start of a billion-laughs or an external-entity attack)
    sheet = (
        '<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY lol "lol">]>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        '<row r="1"><c r="A1" t="inlineStr"><is><t>&lol;</t></is></c></row></sheetData></worksheet>'
    )
    hostile = _replace_member(_workbook([]), "xl/worksheets/sheet1.xml", sheet)
    # Then defusedxml refuses to parse it
    reply = _import(stack, org.tenant.admin_token, _upload(stack, org.tenant.id, hostile))
    assert "not a readable xlsx" in _refused_file(reply)


def test_a_zip_bomb_is_refused_without_inflating_it(
    stack: LocalStack, org: Org, monkeypatch: pytest.MonkeyPatch, in_process: InProcess
) -> None:
    in_process("AccountsExcelFunction")  # the test patches its modules
    from accounts_excel import service

    monkeypatch.setattr(service, "SYNC_MAX_BYTES", 256 * 1024)  # answered in the request, so the 422 shows
    # Given an xlsx whose sheet XML is a huge run of zeros (a few KB on the wire)
    bomb = _replace_member(_workbook([]), "xl/worksheets/sheet1.xml", b"0" * 30_000_000)
    assert len(bomb) < 256 * 1024
    # When it is imported
    reply = _import(stack, org.tenant.admin_token, _upload(stack, org.tenant.id, bomb))
    # Then the ratio of the sheet refuses it
    assert "xl/worksheets/sheet1.xml inflates more than 100 times" in _refused_file(reply)


def test_a_workbook_inflating_beyond_the_total_cap_is_refused(stack: LocalStack) -> None:
    from accounts_excel import workbooks  # on sys.path once the stack has started
    from riveredge.errors import ValidationError

    # Given a workbook whose parts together inflate to more than the cap (lowered here: 100 KB)
    padded = _replace_member(_workbook([]), "docProps/app.xml", os.urandom(60_000).hex())
    # Then the archive check refuses it, while the same file passes the real cap
    with pytest.raises(ValidationError) as refused:
        workbooks.check_archive(padded, workbooks.Limits(uncompressed_bytes=100_000))
    assert "inflates to more than" in refused.value.errors[0].message
    workbooks.check_archive(padded)


def test_a_sheet_claiming_a_million_rows_is_not_walked_to_its_end(
    stack: LocalStack, org: Org, monkeypatch: pytest.MonkeyPatch, in_process: InProcess
) -> None:
    in_process("AccountsExcelFunction")  # the test patches its modules
    from accounts_excel import workbooks

    # Given a sheet claiming A1:F1048576, with one account in row 2 and another in its very last row
    near, far = _email("near"), _email("far")

    def cell(ref: str, text: str) -> str:
        return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'

    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<dimension ref="A1:F1048576"/><sheetData>'
        f'<row r="1">{cell("A1", "email")}{cell("B1", "name")}{cell("D1", "department_code")}</row>'
        f'<row r="2">{cell("A2", near)}{cell("B2", "Near")}{cell("D2", org.eng["code"])}</row>'
        f'<row r="1048576">{cell("A1048576", far)}{cell("B1048576", "Far")}</row>'
        "</sheetData></worksheet>"
    )
    claimed = _replace_member(_workbook([]), "xl/worksheets/sheet1.xml", sheet)
    read: list[int] = []
    original = workbooks._rows

    def counting(data: bytes, limits: workbooks.Limits) -> Generator[tuple[int, tuple[Any, ...]]]:
        for found in original(data, limits):
            read.append(found[0])
            yield found

    monkeypatch.setattr(workbooks, "_rows", counting)
    # When it is imported
    reply = _import(stack, org.tenant.admin_token, _upload(stack, org.tenant.id, claimed))
    # Then reading stopped after 1,000 empty rows: the near account is imported, the far row never read
    assert reply.status == 200, reply.body
    assert reply.json()["counts"]["rows"] == 1 and reply.json()["counts"]["created"] == 1
    assert len(read) <= 2 + 1_000
    assert _stored(org.tenant, near) is not None and _stored(org.tenant, far) is None


def test_more_than_10000_rows_are_refused(
    stack: LocalStack, org: Org, monkeypatch: pytest.MonkeyPatch, in_process: InProcess
) -> None:
    in_process("AccountsExcelFunction")  # the test patches its modules
    from accounts_excel import service

    monkeypatch.setattr(service, "SYNC_MAX_BYTES", 256 * 1024)  # answered in the request, so the 422 shows
    # Given 10,001 data rows (alike, so the file stays small)
    content = _workbook([["same@people.example", "Same"]] * 10_001)
    assert len(content) < 256 * 1024
    # When they are imported, the whole file is refused and nothing is stored
    reply = _import(stack, org.tenant.admin_token, _upload(stack, org.tenant.id, content))
    assert "more than 10000 data rows" in _refused_file(reply)
    assert _stored(org.tenant, "same@people.example") is None


def test_more_than_64_columns_are_refused(stack: LocalStack, org: Org) -> None:
    content = _workbook([[_email(), "Wide", *([None] * 62), "column 65"]])
    reply = _import(stack, org.tenant.admin_token, _upload(stack, org.tenant.id, content))
    assert "beyond column 64" in _refused_file(reply)


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        (["email", "full name"], "unknown column 'full name'"),
        (["email", "name", "email"], "appears twice"),
        (["name", "phone"], "lacks email"),
    ],
)
def test_a_header_row_that_is_not_the_templates_is_refused(
    stack: LocalStack, org: Org, headers: list[str], message: str
) -> None:
    content = _workbook([["a@people.example", "A", "B"]], headers=headers)
    reply = _import(stack, org.tenant.admin_token, _upload(stack, org.tenant.id, content))
    assert message in _refused_file(reply)


@pytest.mark.parametrize(
    "key_of",
    [
        lambda tenant_id: f"{tenant_id}/avatars/{new_id()}.xlsx",
        lambda tenant_id: f"{new_id()}/imports/{new_id()}.xlsx",
        lambda tenant_id: f"{tenant_id}/imports/../imports/x.xlsx",
        lambda tenant_id: f"{tenant_id}/imports/{new_id()}.xlsx",  # under the prefix, but nothing uploaded
    ],
    ids=["other-prefix", "other-tenant", "nested", "missing"],
)
def test_a_key_that_is_not_an_upload_of_the_tenant_is_refused(stack: LocalStack, org: Org, key_of: Any) -> None:
    reply = _import(stack, org.tenant.admin_token, key_of(org.tenant.id))
    assert reply.status == 422, reply.body
    assert [e["field"] for e in reply.json()["errors"]] == ["key"]


def test_an_import_body_with_unknown_fields_is_refused(stack: LocalStack, org: Org) -> None:
    reply = stack.request(
        "POST", "/api/users/imports", token=org.tenant.admin_token, json_body={"key": "x", "overwrite": True}
    )
    assert reply.status == 422
    assert [e["field"] for e in reply.json()["errors"]] == ["overwrite"]


# -- large files: jobs -------------------------------------------------------------------
def test_a_large_file_is_imported_by_a_job(stack: LocalStack, org: Org) -> None:
    # Given a workbook over 256 KB (padded with an unused part) with a good row and a bad one
    good = _email("job")
    rows = [[good, "Job Imported", None, org.ops["code"], org.operator["code"]], ["nope", "Bad"]]
    padded = _padded(_workbook(rows))
    assert len(padded) > 256 * 1024
    # When it is imported
    reply = _import(stack, org.tenant.admin_token, _upload(stack, org.tenant.id, padded))
    # Then the answer is 202 with a queued job to follow
    assert reply.status == 202, reply.body
    queued = reply.json()
    assert queued["status"] == "queued" and queued["counts"]["rows"] == 0
    assert reply.headers["Location"] == f"/api/jobs/{queued['id']}"
    # And the job (started by its event, asynchronously) succeeds with its counts, first problems and a report link
    stack.settle()
    job = stack.request("GET", reply.headers["Location"], token=org.tenant.admin_token)
    assert job.status == 200
    done = job.json()
    assert done["status"] == "succeeded" and done["finished_at"]
    assert done["counts"] == {"rows": 2, "valid": 1, "created": 1, "rejected": 1, "mailed": 1, "mail_failed": 0}
    assert _problems(done) == {(3, "email")}
    assert done["report_url"]
    # And the report in the exports bucket lists every problem
    report = (
        boto3.client("s3")
        .get_object(Bucket=stack.environment["EXPORTS_BUCKET"], Key=f"{org.tenant.id}/reports/{queued['id']}.xlsx")[
            "Body"
        ]
        .read()
    )
    rows_read = _sheet(report)
    assert rows_read[0] == ("row", "field", "problem") and [r[:2] for r in rows_read[1:]] == [(3, "email")]
    stored = _stored(org.tenant, good)
    assert stored is not None and stored.status == "invited" and stored.position_id == org.operator["id"]


def test_a_job_is_run_once_however_often_its_event_is_delivered(stack: LocalStack, org: Org) -> None:
    # Given a queued import job that already ran
    email = _email("redelivered")
    padded = _padded(_workbook([[email, "Once", None, org.eng["code"]]]))
    reply = _import(stack, org.tenant.admin_token, _upload(stack, org.tenant.id, padded))
    assert reply.status == 202
    stack.settle()
    # When its event is delivered again, and a copy of it under a new bus id
    scope = Scope(org.tenant.id)
    with use_scope(scope):
        queued = next(
            e
            for e in OutboxEvent.query(keys.collection(scope, "OUTBOX"))
            if isinstance(e, OutboxEvent) and (e.detail or {}).get("job_id") == reply.json()["id"]
        )
    event = {
        "id": "first",
        "detail-type": "users.import_queued",
        "source": "riveredge.accounts_excel",
        "detail": {**(queued.detail or {}), "tenant_id": org.tenant.id, "event_id": queued.event_id},
    }
    answers = [stack.invoke("AccountsExcelFunction", e) for e in (event, event, {**event, "id": "second"})]
    # Then nothing runs again
    assert answers == [{"job_id": reply.json()["id"], "status": "succeeded"}] * 3
    assert len(_mail_to(stack, email)) == 1


def test_a_job_whose_file_is_refused_fails_with_the_reason(stack: LocalStack, org: Org) -> None:
    # Given a large file that is not a workbook
    reply = _import(stack, org.tenant.admin_token, _upload(stack, org.tenant.id, os.urandom(300_000)))
    assert reply.status == 202
    stack.settle()
    # Then its job failed, saying why
    job = stack.request("GET", f"/api/jobs/{reply.json()['id']}", token=org.tenant.admin_token).json()
    assert job["status"] == "failed" and "not an xlsx workbook" in job["error"]
    assert job["report_url"] is None


def test_a_job_is_visible_to_its_creator_and_importers_only(stack: LocalStack, org: Org) -> None:
    # Given a job created by an account holding user.import only
    importer = _job_role(stack, org.tenant, ["user.import"])
    key = _upload(stack, org.tenant.id, _workbook([["broken", "Broken"]]))
    reply = _import(stack, importer["token"], key)
    assert reply.status == 200, reply.body
    path = f"/api/jobs/{reply.json()['id']}"
    # Then its creator and the admin see it, and an account without user.import does not
    assert stack.request("GET", path, token=importer["token"]).status == 200
    assert stack.request("GET", path, token=org.tenant.admin_token).status == 200
    viewer = _job_role(stack, org.tenant, ["user.view"])
    hidden = stack.request("GET", path, token=viewer["token"])
    missing = stack.request("GET", f"/api/jobs/{MISSING_JOB}", token=viewer["token"])
    assert hidden.status == missing.status == 404
    assert problem_without_request_id(hidden.json()) == problem_without_request_id(missing.json())


def test_a_job_id_that_is_not_one_is_404(stack: LocalStack, org: Org) -> None:
    assert stack.request("GET", "/api/jobs/not-a-job", token=org.tenant.admin_token).status == 404


# -- authority: data scope and grant bound -----------------------------------------------
def test_a_department_importer_imports_only_into_their_departments(stack: LocalStack, org: Org) -> None:
    # Given an importer whose data scope is the Engineering department and below
    role = make_role(stack, org.tenant.admin_token, ["user.import"], data_scope="dept_and_children")
    importer = make_user(
        stack,
        org.tenant.id,
        org.tenant.code,
        [role["id"]],
        department_id=org.eng["id"],
        department_path=org.eng["path"],
    )
    inside, outside, nowhere = _email("in"), _email("out"), _email("nowhere")
    rows = [[inside, "Inside", None, org.eng["code"]], [outside, "Outside", None, org.ops["code"]], [nowhere, "None"]]
    # When they import a row into their department, one into another and one into none
    key = _upload(stack, org.tenant.id, _workbook(rows))
    job = _import(stack, importer["token"], key).json()
    # Then only the row within their scope is stored
    assert job["counts"]["created"] == 1
    assert {(p["row"], p["field"]) for p in job["problems"]} == {(3, "department_code"), (4, "department_code")}
    assert _stored(org.tenant, inside) is not None
    assert _stored(org.tenant, outside) is None and _stored(org.tenant, nowhere) is None


def test_an_importer_cannot_give_a_role_beyond_their_own_permissions(stack: LocalStack, org: Org) -> None:
    # Given an importer holding user.import only, and the system role admin (which grants much more)
    importer = _job_role(stack, org.tenant, ["user.import"])
    email = _email("grant")
    key = _upload(stack, org.tenant.id, _workbook([[email, "Escalated", None, org.eng["code"], None, "admin"]]))
    # When they import an account with that role
    job = _import(stack, importer["token"], key).json()
    # Then the row is refused for its roles, naming what the importer does not hold
    assert job["counts"]["created"] == 0
    problem = job["problems"][0]
    assert (problem["row"], problem["field"]) == (2, "roles") and "which you do not hold" in problem["problem"]
    assert _stored(org.tenant, email) is None


# -- export ------------------------------------------------------------------------------
def test_the_export_lists_what_the_account_list_shows_with_neutralised_cells(stack: LocalStack, org: Org) -> None:
    # Given accounts in Operations, one of them named like a formula
    tag = uuid.uuid4().hex[:6]
    formula, plain = _email(f"f{tag}"), _email(f"p{tag}")
    rows = [
        [
            formula,
            Text('=HYPERLINK("http://evil.example","x")'),
            "+1 555",
            org.ops["code"],
            org.operator["code"],
            "user",
        ],
        [plain, "@SUM(1+1)", "-2+3", org.ops["code"]],
    ]
    assert _import_rows(stack, org.tenant, rows).json()["counts"]["created"] == 2
    # When the admin exports Operations' invited accounts
    query = f"department_id={org.ops['id']}&status=invited"
    reply = stack.request("GET", f"/api/users/export?{query}", token=org.tenant.admin_token)
    # Then the workbook holds exactly the accounts the list shows for the same filters
    assert reply.status == 200 and reply.content_type == XLSX_MEDIA_TYPE
    assert reply.headers["Content-Disposition"].startswith('attachment; filename="accounts-')
    exported = _sheet(reply.body)
    assert exported[0][:6] == tuple(HEADERS)
    listed = stack.request("GET", f"/api/users?{query}&limit=200", token=org.tenant.admin_token).json()["items"]
    assert {r[0] for r in exported[1:]} == {u["email"] for u in listed}
    assert {formula, plain} <= {r[0] for r in exported[1:]}
    # And cells that could start a formula are text, department, position and roles by code
    row = next(r for r in exported if r[0] == formula)
    assert row[1:3] == ('\'=HYPERLINK("http://evil.example","x")', "'+1 555")
    assert row[3:7] == (org.ops["code"], org.operator["code"], "user", "invited")
    assert next(r for r in exported if r[0] == plain)[1:3] == ("'@SUM(1+1)", "'-2+3")


def test_the_export_is_limited_to_the_callers_data_scope(stack: LocalStack, org: Org) -> None:
    # Given an exporter whose data scope is Engineering and below
    role = make_role(stack, org.tenant.admin_token, ["user.export", "user.view"], data_scope="dept_and_children")
    exporter = make_user(
        stack,
        org.tenant.id,
        org.tenant.code,
        [role["id"]],
        department_id=org.eng["id"],
        department_path=org.eng["path"],
    )
    # When they export everything they may see
    exported = _sheet(stack.request("GET", "/api/users/export", token=exporter["token"]).body)
    # Then only Engineering's accounts are in it, as in their list
    emails = {r[0] for r in exported[1:]}
    assert {r[3] for r in exported[1:]} == {org.eng["code"]}
    listed: set[str] = set()
    cursor = ""
    while True:
        page = stack.request("GET", f"/api/users?limit=200{cursor}", token=exporter["token"]).json()
        listed |= {u["email"] for u in page["items"]}
        if not page["next_cursor"]:
            break
        cursor = f"&cursor={page['next_cursor']}"
    assert emails == listed


def test_an_export_beyond_the_cap_asks_for_narrower_filters(
    stack: LocalStack, org: Org, monkeypatch: pytest.MonkeyPatch, in_process: InProcess
) -> None:
    in_process("AccountsExcelFunction")  # the test patches its modules
    from accounts_excel import service

    # Given a cap lower than the accounts of the organisation
    monkeypatch.setattr(service, "EXPORT_MAX_ROWS", 1)
    # When everything is exported, it is a 422 asking for narrower filters
    reply = stack.request("GET", "/api/users/export", token=org.tenant.admin_token)
    assert reply.status == 422
    assert "narrow the filters" in reply.json()["detail"]
    assert [e["field"] for e in reply.json()["errors"]] == ["department_id"]


def test_export_filters_are_checked(stack: LocalStack, org: Org) -> None:
    assert stack.request("GET", "/api/users/export?status=gone", token=org.tenant.admin_token).status == 400
    unknown = stack.request("GET", f"/api/users/export?department_id={MISSING_JOB}", token=org.tenant.admin_token)
    assert unknown.status == 404


# -- isolation and permissions -----------------------------------------------------------
def test_another_tenant_cannot_import_an_upload_of_acme(
    stack: LocalStack, acme: TenantFixture, globex: TenantFixture
) -> None:
    # Given a workbook uploaded under acme's prefix
    email = _email("cross")
    key = _upload(stack, acme.id, _workbook([[email, "Cross Tenant"]]))
    # When globex's admin names it in an import
    reply = _import(stack, globex.admin_token, key)
    # Then it is refused as not theirs, and nothing is stored in either tenant
    assert reply.status == 422
    assert [e["field"] for e in reply.json()["errors"]] == ["key"]
    assert _stored(acme, email) is None and _stored(globex, email) is None


def test_another_tenants_job_is_404(stack: LocalStack, acme: TenantFixture, globex: TenantFixture) -> None:
    # Given a job of acme's (a dry run)
    key = _upload(stack, acme.id, _workbook([["broken", "Broken"]]))
    job = _import(stack, acme.admin_token, key, dry_run=True).json()
    # When globex's admin reads it, it does not exist for them: the same 404 as a job that exists nowhere
    reply = stack.request("GET", f"/api/jobs/{job['id']}", token=globex.admin_token)
    nowhere = stack.request("GET", f"/api/jobs/{MISSING_JOB}", token=globex.admin_token)
    assert reply.status == nowhere.status == 404
    assert problem_without_request_id(reply.json()) == problem_without_request_id(nowhere.json())
    # And acme's job item stays where it was
    with use_scope(Scope(acme.id)):
        assert Job.get(*keys.job(Scope(acme.id), job["id"])).created_by == claims_of(acme.admin_token)["sub"]


@pytest.mark.parametrize(
    ("method", "path", "needed"),
    [
        ("GET", "/api/users/import-template", "user.import"),
        ("POST", "/api/users/imports/uploads", "user.import"),
        ("POST", "/api/users/imports", "user.import"),
        ("GET", "/api/users/export", "user.export"),
    ],
)
def test_a_caller_without_the_permission_gets_403(
    stack: LocalStack, org: Org, method: str, path: str, needed: str
) -> None:
    # Given an account holding everything about accounts but the permission the route needs
    others = {"user.view", "user.create", "user.edit", "user.import", "user.export"} - {needed}
    member = _job_role(stack, org.tenant, sorted(others))
    body = {"key": f"{org.tenant.id}/imports/{new_id()}.xlsx"} if method == "POST" else None
    reply = stack.request(method, path, token=member["token"], json_body=body)
    assert reply.status == 403
    assert reply.json()["type"] == "/problems/forbidden"


def test_a_refused_file_fails_its_job_with_the_reason(stack: LocalStack, org: Org) -> None:
    # Given a zip bomb larger than what is imported in the request
    bomb = _replace_member(_workbook([]), "xl/worksheets/sheet1.xml", b"0" * 30_000_000)
    # When it is imported, it is queued as a job
    reply = _import(stack, org.tenant.admin_token, _upload(stack, org.tenant.id, bomb))
    assert reply.status == 202
    stack.settle()
    # Then the job failed, naming why, and stored nothing
    job = stack.request("GET", f"/api/jobs/{reply.json()['id']}", token=org.tenant.admin_token).json()
    assert job["status"] == "failed"
    assert "inflates more than 100 times" in job["error"]


def test_custom_fields_are_template_columns_checked_on_import_and_exported(stack: LocalStack, org: Org) -> None:
    token = org.tenant.admin_token
    for body in [
        {"code": "shift", "name": "Shift"},
    ]:
        assert stack.request("POST", "/api/dictionaries", token=token, json_body=body).status == 201
    for code, label in [("early", "Early"), ("late", "Late")]:
        item = {"code": code, "label": label, "translations": {"zh-CN": "早班" if code == "early" else "晚班"}}
        assert stack.request("POST", "/api/dictionaries/shift/items", token=token, json_body=item).status == 201
    for body in [
        {"entity": "user", "key": "badge", "label": "Badge", "type": "text", "required": True},
        {"entity": "user", "key": "grade", "label": "Grade", "type": "number", "validation": {"maximum": 9}},
        {"entity": "user", "key": "shifts", "label": "Shifts", "type": "multi_select", "dictionary": "shift"},
        {"entity": "user", "key": "home", "label": "Home department", "type": "department"},
        {"entity": "user", "key": "remote", "label": "Remote", "type": "boolean", "default": False},
    ]:
        assert stack.request("POST", "/api/custom-fields", token=token, json_body=body).status == 201, body
    # The template has a column per field, described on the Instructions sheet
    template = stack.request("GET", "/api/users/import-template", token=token).body
    columns = ["cf.badge", "cf.grade", "cf.home", "cf.remote", "cf.shifts"]
    assert list(_sheet(template, "Accounts")[0]) == [*HEADERS, *columns]
    help_rows = {r[0]: r for r in _sheet(template, "Instructions")}
    assert help_rows["cf.badge"][1] == "yes"
    assert help_rows["cf.shifts"][2] == "Shifts: one or more, separated by commas, of: early, late (codes or labels)"

    good, wrong, missing = _email("good"), _email("wrong"), _email("missing")
    headers = [*HEADERS, *columns]
    rows = [
        [good, "Good", None, None, None, None, "B-1", 3, org.eng["code"], None, "early, 晚班"],
        [wrong, "Wrong", None, None, None, None, "B-2", 12, "NOPE", "maybe", "night"],
        [missing, "Missing", None, None, None, None, None, None, None, None, None],
    ]
    reply = _import(stack, token, _upload(stack, org.tenant.id, _workbook(rows, headers)))
    assert reply.status == 200, reply.body
    job = reply.json()
    assert job["counts"]["created"] == 1, job
    assert {(p["row"], p["field"], p["problem"]) for p in job["problems"]} == {
        (3, "cf.grade", "must be at most 9"),
        (3, "cf.home", "no such department"),
        (3, "cf.remote", "must be true or false"),
        (3, "cf.shifts", "must be one of: early, late"),
        (4, "cf.badge", "is required"),
    }
    stored = _stored(org.tenant, good)
    assert stored is not None and _stored(org.tenant, wrong) is None and _stored(org.tenant, missing) is None
    expected = {"badge": "B-1", "grade": 3, "home": org.eng["id"], "remote": False, "shifts": ["early", "late"]}
    shown = stack.request("GET", f"/api/users/{stored.user_id}", token=token).json()["custom_fields"]
    assert shown == expected

    # The export has the same columns (filtered by a custom field, as the list is)
    exported = _sheet(stack.request("GET", "/api/users/export", token=token, query="custom_field=badge:B-1").body)
    assert list(exported[0][-5:]) == columns
    assert len(exported) == 2
    assert list(exported[1][-5:]) == ["B-1", 3, org.eng["id"], "FALSE", "early, late"]
