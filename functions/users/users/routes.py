"""Account routes."""

from __future__ import annotations

from riveredge.http import ApiRouter, current_principal
from riveredge.schemas import UserResponse

from users import service

router = ApiRouter("users")


@router.get("/api/users/<user_id>", permission="user.view", summary="Read an account of the caller's organisation")
def get_user(user_id: str) -> UserResponse:
    return UserResponse.of(service.get(current_principal(router), user_id))
