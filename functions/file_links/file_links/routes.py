"""File-link routes (thin: parse, call the service, answer): a file's preview, its share links, and the public
side of a share link."""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import parse_qs

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from riveredge.clock import utcnow
from riveredge.errors import FieldProblem, ValidationError
from riveredge.http import (
    DELETED,
    PUBLIC,
    ApiRouter,
    VersionQuery,
    actor_of,
    created,
    created_as,
    expected_version,
    no_content,
)

from file_links import service
from file_links.models import (
    MAX_PASSWORD,
    CreatedFileShareResponse,
    CreateFileShareRequest,
    FilePreviewResponse,
    FileShareDownloadResponse,
    FileShareListResponse,
    FileShareResponse,
)

router = ApiRouter("file links")
public_router = ApiRouter("public")

VIEW = "file.view"
SHARE = "file.share"
Limit = Annotated[int, Query(ge=1, le=200)]
Cursor = Annotated[str | None, Query(max_length=2048)]
_NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
_REDIRECT = {"description": "To a presigned GET of the file (Location), good for a minute"}
_GONE = {410: {"description": "The link expired, its downloads are used up, or its file is no longer available"}}


@router.get(
    "/api/files/<file_id>/preview",
    permission=VIEW,
    summary="How to preview a file: our thumbnail (images) or first page (PDFs), the organisation's kkFileView "
    "for other types when its file settings name one, or none; a file that is not ready is a 409",
)
def get_preview(file_id: str) -> FilePreviewResponse:
    return service.preview(actor_of(router), file_id)


def _share(found: Any) -> FileShareResponse:
    return FileShareResponse.of(found, service.state_of(found, utcnow()))


@router.post(
    "/api/files/<file_id>/shares",
    permission=SHARE,
    permission_name="Share files",
    status_code=201,
    summary="Make a share link of a ready file: optional password, expiry and download limit, optionally mailed "
    "to addresses; the token is in this answer only",
    responses=created_as(CreatedFileShareResponse),
)
def create_share(file_id: str, body: CreateFileShareRequest) -> Response[dict[str, Any]]:
    made = service.create_share(actor_of(router), file_id, body)
    answer = CreatedFileShareResponse(
        **_share(made.share).model_dump(),
        token=made.token,
        url=made.url,
    )
    return created(answer, f"/api/files/{file_id}/shares/{made.share.share_id}")


@router.get(
    "/api/files/<file_id>/shares",
    permission=SHARE,
    summary="A file's share links, oldest first (never their tokens)",
)
def list_shares(file_id: str, limit: Limit = 50, cursor: Cursor = None) -> FileShareListResponse:
    found, next_cursor = service.shares(actor_of(router), file_id, limit, cursor)
    return FileShareListResponse(items=[_share(s) for s in found], next_cursor=next_cursor)


@router.get(
    "/api/files/<file_id>/shares/<share_id>",
    permission=SHARE,
    summary="One share link of a file (never its token)",
)
def get_share(file_id: str, share_id: str) -> FileShareResponse:
    return _share(service.share(actor_of(router), file_id, share_id))


@router.delete(
    "/api/files/<file_id>/shares/<share_id>",
    permission=SHARE,
    status_code=204,
    summary="Revoke a share link: it answers 404 from now on",
    responses=DELETED,
)
def delete_share(file_id: str, share_id: str, version: VersionQuery = None) -> Response[str]:
    service.delete_share(actor_of(router), file_id, share_id, expected_version(router, version))
    return no_content()


def _redirect(download: service.Download, status: int) -> Response[str]:
    return Response(status_code=status, body="", headers={"Location": download.url, **_NO_STORE})


@public_router.get(
    "/api/public/shares/<token>",
    permission=PUBLIC,
    status_code=302,
    summary="Open a share link (no account): a redirect to the file after the link's checks; a link with a "
    "password answers 401 (POST the password instead); a guessed or revoked link is a 404",
    responses={302: _REDIRECT, **_GONE},
)
def open_share(token: str) -> Response[str]:
    return _redirect(service.open_link(token), 302)


def _password(event: Any, content_type: str) -> str | None:
    """The password of a form (``password=...``) or of a JSON object (``{"password": "..."}``); None without one."""
    problem = ValidationError(
        "the body is not valid",
        errors=[FieldProblem("password", 'send {"password": "..."} as JSON, or a urlencoded form')],
    )
    try:
        body: str | None = event.decoded_body
    except ValueError:  # base64 of bytes that are not UTF-8
        raise problem from None
    if not body:
        return None
    value: object = None
    if content_type == "application/x-www-form-urlencoded":
        values = parse_qs(body, keep_blank_values=True).get("password")
        value = values[0] if values else None
    elif content_type == "multipart/form-data":
        raise problem
    else:
        try:
            parsed = json.loads(body)
        except ValueError:
            raise problem from None
        if not isinstance(parsed, dict) or set(parsed) - {"password"}:
            raise problem
        value = parsed.get("password")
    if value is not None and (not isinstance(value, str) or len(value) > MAX_PASSWORD):
        raise problem
    return value


@public_router.post(
    "/api/public/shares/<token>",
    permission=PUBLIC,
    form_body=True,
    summary="Open a share link with its password (no account): a form (`password=`) answers 303 to the file, "
    'JSON ({"password": ...}) answers the file\'s URL; wrong passwords are limited per link (429 after 5 in '
    "15 minutes)",
    responses={
        200: {"description": "The file's URL", "content": {"application/json": {"model": FileShareDownloadResponse}}},
        303: _REDIRECT,
        **_GONE,
    },
)
def open_share_with_password(token: str) -> Response[Any]:
    event = public_router.current_event
    headers = {k.lower(): v for k, v in (event.headers or {}).items()}
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    download = service.open_with_password(token, _password(event, content_type))
    if content_type == "application/x-www-form-urlencoded":
        return _redirect(download, 303)
    body = FileShareDownloadResponse(url=download.url, expires_in=download.expires_in).model_dump(mode="json")
    return Response(status_code=200, content_type="application/json", body=body, headers=_NO_STORE)
