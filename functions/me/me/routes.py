"""Routes of the personal centre: any signed-in caller, on their own account only."""

from __future__ import annotations

from datetime import datetime

from riveredge.clock import iso
from riveredge.http import AUTHENTICATED, ApiRouter, actor_of, with_if_match

from me import service
from me.models import (
    AvatarConfirmRequest,
    AvatarUploadRequest,
    AvatarUploadResponse,
    NotificationsResponse,
    PasswordChangedResponse,
    PasswordChangeRequest,
    PreferencesResponse,
    PreferencesUpdateRequest,
    ProfileResponse,
    ProfileUpdateRequest,
)

router = ApiRouter("me")


def _time(value: datetime | None) -> str:
    return iso(value) if value else ""


def _profile(profile: service.Profile) -> ProfileResponse:
    user = profile.user
    return ProfileResponse(
        id=user.user_id,
        email=user.email,
        name=user.name,
        bio=user.bio,
        phone=user.phone,
        contacts=dict(user.contacts or {}),
        avatar_url=profile.avatar_url,
        created_at=_time(user.created_at),
        updated_at=_time(user.updated_at),
        version=int(user.version or 0),
    )


def _preferences(view: service.PreferencesView) -> PreferencesResponse:
    return PreferencesResponse(
        theme=view.theme,
        language=view.language,
        timezone=view.timezone,
        notifications=NotificationsResponse(**view.notifications),
        version=view.version,
        updated_at=iso(view.updated_at) if view.updated_at else None,
    )


@router.get("/api/me/profile", permission=AUTHENTICATED, summary="The caller's profile")
def get_profile() -> ProfileResponse:
    return _profile(service.get_profile(actor_of(router)))


@router.put("/api/me/profile", permission=AUTHENTICATED, summary="Change the caller's name, bio, phone or contacts")
def update_profile(body: ProfileUpdateRequest) -> ProfileResponse:
    return _profile(service.update_profile(actor_of(router), with_if_match(router, body)))


@router.post(
    "/api/me/avatar/upload",
    permission=AUTHENTICATED,
    summary="A presigned S3 POST for a new avatar (PNG, JPEG or WebP, at most 2 MB)",
)
def start_avatar_upload(body: AvatarUploadRequest) -> AvatarUploadResponse:
    upload = service.start_avatar_upload(actor_of(router), body.content_type)
    return AvatarUploadResponse(
        url=upload.url,
        fields=upload.fields,
        key=upload.key,
        expires_in=service.UPLOAD_EXPIRES_SECONDS,
        max_bytes=service.AVATAR_MAX_BYTES,
    )


@router.put("/api/me/avatar", permission=AUTHENTICATED, summary="Make an uploaded image the caller's avatar")
def confirm_avatar(body: AvatarConfirmRequest) -> ProfileResponse:
    return _profile(service.confirm_avatar(actor_of(router), with_if_match(router, body)))


@router.get("/api/me/preferences", permission=AUTHENTICATED, summary="The caller's preferences (defaults if unset)")
def get_preferences() -> PreferencesResponse:
    return _preferences(service.get_preferences(actor_of(router)))


@router.put(
    "/api/me/preferences",
    permission=AUTHENTICATED,
    summary="Change the caller's theme, language, time zone or notification settings",
)
def update_preferences(body: PreferencesUpdateRequest) -> PreferencesResponse:
    return _preferences(service.update_preferences(actor_of(router), with_if_match(router, body)))


@router.post(
    "/api/me/password",
    permission=AUTHENTICATED,
    summary="Change the caller's password (needs the current one; signs out their other sessions)",
)
def change_password(body: PasswordChangeRequest) -> PasswordChangedResponse:
    return PasswordChangedResponse(revoked_sessions=service.change_password(actor_of(router), body))
