"""Routes of the login log, online users and force sign-out (thin: parse, call the service, answer)."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from riveredge.clock import iso
from riveredge.db.models import LoginLogEntry, Session
from riveredge.http import ApiRouter, actor_of
from riveredge.spreadsheets import XLSX_MEDIA_TYPE

from sessions import service
from sessions.models import (
    LoginLogItem,
    LoginLogListResponse,
    OnlineSessionItem,
    OnlineUserListResponse,
    RevokedResponse,
    SessionResponse,
)

router = ApiRouter("sessions")

EmailFilter = Annotated[str | None, Query(max_length=254, description="Entries for this email address only")]
UserFilter = Annotated[str | None, Query(max_length=64, description="Entries of this user id only")]
SuccessFilter = Annotated[bool | None, Query(description="true: successful sign-ins; false: failed attempts")]
Since = Annotated[datetime | None, Query(description="Entries at or after this time (ISO 8601; UTC if no zone)")]
Until = Annotated[datetime | None, Query(description="Entries at or before this time (ISO 8601; UTC if no zone)")]
Limit = Annotated[int, Query(ge=1, le=200)]
Cursor = Annotated[str | None, Query(max_length=2048)]


def _time(value: datetime | None) -> str:
    return iso(value) if value else ""


def _entry(entry: LoginLogEntry) -> LoginLogItem:
    return LoginLogItem(
        id=entry.sk,
        email=entry.email,
        user_id=entry.user_id,
        success=entry.success,
        reason=entry.reason,
        ip=entry.ip,
        user_agent=entry.user_agent,
        created_at=_time(entry.created_at),
    )


def _session(session: Session) -> SessionResponse:
    return SessionResponse(
        id=session.session_id,
        user_id=session.user_id,
        status=session.status,
        revoked_reason=session.revoked_reason,
        ip=session.ip,
        user_agent=session.user_agent,
        created_at=_time(session.created_at),
        updated_at=_time(session.updated_at),
        expires_at=_time(session.expires_at),
        version=int(session.version or 0),
    )


def _online(item: service.OnlineSession, current_session_id: str) -> OnlineSessionItem:
    session, user = item.session, item.user
    return OnlineSessionItem(
        id=session.session_id,
        user_id=session.user_id,
        email=user.email if user else None,
        name=user.name if user else None,
        ip=session.ip,
        user_agent=session.user_agent,
        created_at=_time(session.created_at),
        updated_at=_time(session.updated_at),
        expires_at=_time(session.expires_at),
        current=session.session_id == current_session_id,
    )


@router.get(
    "/api/login-logs",
    permission="login_log.view",
    permission_name="View the login log",
    summary="List sign-in attempts of the organisation, newest first",
)
def list_login_logs(
    email: EmailFilter = None,
    user_id: UserFilter = None,
    success: SuccessFilter = None,
    since: Since = None,
    until: Until = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> LoginLogListResponse:
    filters = service.LoginLogFilters(email=email, user_id=user_id, success=success, since=since, until=until)
    entries, next_cursor = service.login_log_page(actor_of(router), filters, limit=limit, cursor=cursor)
    return LoginLogListResponse(items=[_entry(e) for e in entries], next_cursor=next_cursor)


@router.get(
    "/api/login-logs/export",
    permission="login_log.export",
    permission_name="Export the login log",
    summary="Download the filtered login log as an Excel workbook (at most 10,000 rows)",
    responses={
        200: {
            "description": "The workbook (send `Accept` with its media type to receive the bytes through API Gateway)",
            "content": {XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
def export_login_logs(
    email: EmailFilter = None,
    user_id: UserFilter = None,
    success: SuccessFilter = None,
    since: Since = None,
    until: Until = None,
) -> Response[str]:
    filters = service.LoginLogFilters(email=email, user_id=user_id, success=success, since=since, until=until)
    export = service.export_login_log(actor_of(router), filters)
    response: Response[str] = Response(
        status_code=200,
        content_type=XLSX_MEDIA_TYPE,
        body=base64.b64encode(export.content).decode(),
        headers={"Content-Disposition": f'attachment; filename="{export.filename}"', "Cache-Control": "no-store"},
    )
    # Already base64: Powertools would base64 raw bytes itself, but its response validation first
    # serialises the body as JSON text, which bytes that are not UTF-8 cannot be.
    response.base64_encoded = True
    return response


@router.get(
    "/api/online-users",
    permission="session.view",
    permission_name="View online users",
    summary="List live sessions of the organisation with their users, newest first",
)
def list_online_users(limit: Limit = 50, cursor: Cursor = None) -> OnlineUserListResponse:
    actor = actor_of(router)
    online, next_cursor = service.online_users_page(actor, limit=limit, cursor=cursor)
    return OnlineUserListResponse(
        items=[_online(o, actor.principal.session_id) for o in online], next_cursor=next_cursor
    )


@router.post(
    "/api/sessions/<session_id>/revoke",
    permission="session.revoke",
    permission_name="Force sign-out",
    summary="Force sign-out of one session (its tokens stop working on the next request)",
)
def revoke_session(session_id: str) -> SessionResponse:
    return _session(service.revoke_session(actor_of(router), session_id))


@router.post(
    "/api/users/<user_id>/sessions/revoke",
    permission="session.revoke",
    permission_name="Force sign-out",
    summary="Force sign-out of every live session of a user",
)
def revoke_user_sessions(user_id: str) -> RevokedResponse:
    return RevokedResponse(revoked=service.revoke_user_sessions(actor_of(router), user_id))
