"""Request and response bodies of the invitation routes."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

from pydantic import AwareDatetime, Field
from riveredge.clock import iso
from riveredge.emails import Email
from riveredge.schemas import RequestModel, ResponseModel, StoredObject, TenantCodeField, stored_fields

if TYPE_CHECKING:
    from invitations.repository import Invitation

RoleId = Annotated[str, Field(min_length=1, max_length=64)]


class CreateInvitationRequest(RequestModel):
    role_ids: list[RoleId] = Field(
        min_length=1, max_length=20, description="Roles of the organisation the new accounts get"
    )
    department_id: Annotated[str, Field(min_length=1, max_length=64)] | None = Field(
        default=None, description="The department the new accounts join"
    )
    expires_at: AwareDatetime = Field(description="When the code stops working: in the future, at most 90 days ahead")
    max_uses: int = Field(default=1, ge=1, le=1000, description="How many accounts the code may create")


class RevokeInvitationRequest(RequestModel):
    version: int | None = Field(default=None, ge=0, description="The version you read; a stale one is a 412")


class RegisterRequest(RequestModel):
    tenant: TenantCodeField = Field(description="The organisation code")
    invitation_code: Annotated[str, Field(min_length=1, max_length=64)]
    email: Email
    name: Annotated[str, Field(min_length=1, max_length=100)]
    password: Annotated[str, Field(min_length=1, max_length=256, description="Must meet the password policy")]


class InvitationResponse(StoredObject):
    code: str
    role_ids: list[str]
    department_id: str | None
    expires_at: str
    max_uses: int
    uses: int
    status: str
    expired: bool
    created_by: str

    @classmethod
    def of(cls, invitation: Invitation, now: datetime) -> InvitationResponse:
        return cls(
            **stored_fields(invitation, invitation.code),
            code=invitation.code,
            role_ids=sorted(invitation.role_ids or []),
            department_id=invitation.department_id,
            expires_at=iso(invitation.expires_at),
            max_uses=int(invitation.max_uses),
            uses=int(invitation.uses or 0),
            status=invitation.status,
            expired=invitation.expires_at <= now,
            created_by=invitation.created_by,
        )


class InvitationListResponse(ResponseModel):
    items: list[InvitationResponse]
    next_cursor: str | None = None
