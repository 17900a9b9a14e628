"""Site-settings routes (thin: parse, call the service, answer), and the login page's public configuration."""

from __future__ import annotations

import json

from aws_lambda_powertools.event_handler import Response
from riveredge.http import PUBLIC, ApiRouter, actor_of, with_if_match

from site_settings import service
from site_settings.models import (
    SiteImageUploadRequest,
    SiteImageUploadResponse,
    SiteSettingsResponse,
    SiteSettingsUpdateRequest,
    TenantConfigResponse,
)

router = ApiRouter("site settings")
public_router = ApiRouter("public")


@router.get(
    "/api/site-settings",
    permission="site.view",
    permission_name="View the site settings",
    summary="The organisation's site settings: branding, login page, language and time zone, password policy "
    "and session length (the defaults, version 0, until first saved)",
)
def get_site_settings() -> SiteSettingsResponse:
    return service.get(actor_of(router))


@router.put(
    "/api/site-settings",
    permission="site.edit",
    permission_name="Change the site settings",
    summary="Change the site settings (fields left out stay; null clears the logo, favicon and login texts). "
    "Sign-in obeys a new password policy and session length from the next sign-in or refresh on",
)
def update_site_settings(body: SiteSettingsUpdateRequest) -> SiteSettingsResponse:
    return service.update(actor_of(router), with_if_match(router, body))


@router.post(
    "/api/site-settings/uploads",
    permission="site.edit",
    summary="A presigned S3 POST for a new logo (PNG, JPEG or WebP, at most 1 MB) or favicon (PNG or ICO, at "
    "most 256 KB); PUT its key as logo_key / favicon_key once uploaded",
)
def start_upload(body: SiteImageUploadRequest) -> SiteImageUploadResponse:
    upload = service.start_upload(actor_of(router), body.kind, body.content_type)
    return SiteImageUploadResponse(
        url=upload.url,
        fields=upload.fields,
        key=upload.key,
        expires_in=service.UPLOAD_EXPIRES_SECONDS,
        max_bytes=upload.max_bytes,
    )


@public_router.get(
    "/api/public/tenant-config/<tenant_code>",
    permission=PUBLIC,
    summary="What an organisation's login page shows (no token): name, logo, colours, texts, language and "
    "password rules. Cacheable (ETag, If-None-Match answers 304); an unknown organisation is a 404",
    responses={
        200: {"description": "The configuration", "content": {"application/json": {"model": TenantConfigResponse}}},
        304: {"description": "Not modified: the copy named by If-None-Match is current"},
    },
)
def get_tenant_config(tenant_code: str) -> Response[str]:
    headers = {k.lower(): v for k, v in (public_router.current_event.headers or {}).items()}
    found = service.public_config(tenant_code, headers.get("if-none-match"))
    cache = {"ETag": found.etag, "Cache-Control": f"public, max-age={service.PUBLIC_MAX_AGE_SECONDS}"}
    if found.body is None:
        return Response(status_code=304, body="", headers=cache)
    body = json.dumps(found.body.model_dump(mode="json"), ensure_ascii=False)
    return Response(status_code=200, content_type="application/json", body=body, headers=cache)
