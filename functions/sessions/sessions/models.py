"""Request and response bodies of the session and login-log routes."""

from __future__ import annotations

from riveredge.schemas import ResponseModel


class LoginLogItem(ResponseModel):
    id: str
    email: str
    user_id: str | None = None
    success: bool
    reason: str | None = None
    ip: str | None = None
    user_agent: str | None = None
    created_at: str


class LoginLogListResponse(ResponseModel):
    items: list[LoginLogItem]
    next_cursor: str | None = None


class OnlineSessionItem(ResponseModel):
    id: str
    user_id: str
    email: str | None = None
    name: str | None = None
    ip: str | None = None
    user_agent: str | None = None
    created_at: str
    updated_at: str
    expires_at: str
    current: bool


class OnlineUserListResponse(ResponseModel):
    items: list[OnlineSessionItem]
    next_cursor: str | None = None


class SessionResponse(ResponseModel):
    id: str
    user_id: str
    status: str
    revoked_reason: str | None = None
    ip: str | None = None
    user_agent: str | None = None
    created_at: str
    updated_at: str
    expires_at: str
    version: int


class RevokedResponse(ResponseModel):
    revoked: int
