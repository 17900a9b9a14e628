"""Invitation routes (thin: parse, call the service, answer)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from riveredge.clock import utcnow
from riveredge.http import PUBLIC, ApiRouter, actor_of, caller, created, created_as, expected_version
from riveredge.schemas import UserResponse

from invitations import service
from invitations.models import (
    CreateInvitationRequest,
    InvitationListResponse,
    InvitationResponse,
    RegisterRequest,
    RevokeInvitationRequest,
)

router = ApiRouter("invitations")


@router.post(
    "/api/invitations",
    permission="invitation.create",
    status_code=201,
    summary="Create an invitation code with roles, an expiry and a maximum number of uses",
    responses=created_as(InvitationResponse),
)
def create_invitation(body: CreateInvitationRequest) -> Response[dict[str, Any]]:
    invitation = InvitationResponse.of(service.create(actor_of(router), body), utcnow())
    return created(invitation, f"/api/invitations/{invitation.code}")


@router.get("/api/invitations", permission="invitation.view", summary="List the organisation's invitations")
def list_invitations(
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> InvitationListResponse:
    items, next_cursor = service.page(actor_of(router), limit=limit, cursor=cursor)
    now = utcnow()
    return InvitationListResponse(items=[InvitationResponse.of(i, now) for i in items], next_cursor=next_cursor)


@router.get("/api/invitations/<code>", permission="invitation.view", summary="Read an invitation")
def get_invitation(code: str) -> InvitationResponse:
    return InvitationResponse.of(service.get(actor_of(router), code), utcnow())


@router.post(
    "/api/invitations/<code>/revoke",
    permission="invitation.edit",
    versioned=True,
    summary="Revoke an invitation: it creates no more accounts",
)
def revoke_invitation(code: str, body: RevokeInvitationRequest | None = None) -> InvitationResponse:
    version = expected_version(router, body.version if body is not None else None)
    return InvitationResponse.of(service.revoke(actor_of(router), code, version), utcnow())


@router.post(
    "/api/public/register",
    permission=PUBLIC,
    status_code=201,
    summary="Register an account in an organisation with an invitation code (then sign in)",
    responses=created_as(UserResponse),
)
def register(body: RegisterRequest) -> Response[dict[str, Any]]:
    user = UserResponse.of(service.register(body, caller(router).request_id))
    return created(user, f"/api/users/{user.id}")
