"""Site-settings rules: one document per organisation, changed whole or in part on the version read; what
sign-in obeys (password policy, session length) is copied onto the tenant item in the same transaction."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from riveredge import files, passwords, site
from riveredge.actor import Actor
from riveredge.clock import iso, new_id, utcnow
from riveredge.db.changes import expect_version
from riveredge.db.models import SiteSettings
from riveredge.errors import ConflictError, FieldProblem, NotFoundError, ValidationError
from riveredge.i18n.bundles import enabled as language_enabled
from riveredge.schemas import TENANT_CODE_PATTERN
from riveredge.scope import PLATFORM, Scope, use_scope
from riveredge.settings import get_settings

from site_settings import repository
from site_settings.models import (
    IMAGE_TYPES,
    MAX_BYTES,
    PasswordPolicyResponse,
    PasswordRules,
    SiteSettingsResponse,
    SiteSettingsUpdateRequest,
    TenantConfigResponse,
)

UPLOAD_EXPIRES_SECONDS = 600
# Image links are signed for two hours and the public config's ETag changes every hour, so a copy a client
# revalidated (304) still holds links that work for as long as max-age lets it keep that copy.
DOWNLOAD_EXPIRES_SECONDS = 2 * 3600
ETAG_WINDOW_SECONDS = 3600
PUBLIC_MAX_AGE_SECONDS = 300
_ULID = r"[0-9A-HJKMNP-TV-Z]{26}"
_KEEP_UNLESS_GIVEN = ("system_name", "primary_color", "default_language", "time_zone", "session_seconds")
_CLEARABLE = ("login_title", "login_subtitle", "login_footer")
_RULES = tuple(PasswordRules.model_fields)


def _complete(stored: dict[str, Any] | None) -> dict[str, Any]:
    """A stored document (of any age; None: never saved) with every field, its policy in the full shape."""
    values = {name: (stored or {}).get(name, default) for name, default in site.DEFAULTS.items()}
    values["password_policy"] = passwords.policy_of(values["password_policy"])
    values["session_seconds"] = int(values["session_seconds"]) if values["session_seconds"] else None
    return values


def _session_seconds(values: dict[str, Any]) -> int:
    return int(values["session_seconds"] or get_settings().refresh_token_ttl_seconds)


def _url(key: str | None) -> str | None:
    return files.download_url(key, DOWNLOAD_EXPIRES_SECONDS) if key else None


def _response(values: dict[str, Any], stored: SiteSettings | None) -> SiteSettingsResponse:
    policy = values["password_policy"]
    return SiteSettingsResponse(
        system_name=values["system_name"],
        logo_key=values["logo_key"],
        logo_url=_url(values["logo_key"]),
        favicon_key=values["favicon_key"],
        favicon_url=_url(values["favicon_key"]),
        primary_color=values["primary_color"],
        login_title=values["login_title"],
        login_subtitle=values["login_subtitle"],
        login_footer=values["login_footer"],
        default_language=values["default_language"],
        time_zone=values["time_zone"],
        password_policy=PasswordPolicyResponse(**{k: policy[k] for k in PasswordPolicyResponse.model_fields}),
        session_seconds=_session_seconds(values),
        version=int(stored.version or 0) if stored else 0,
        updated_at=iso(stored.updated_at) if stored and stored.updated_at else None,
    )


def get(actor: Actor) -> SiteSettingsResponse:
    """The organisation's settings as stored (consistent: the version is the one a PUT must name)."""
    stored = repository.find(actor.scope)
    return _response(_complete(stored.settings if stored else None), stored)


# -- images ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Upload:
    url: str
    fields: dict[str, str]
    key: str
    max_bytes: int


def _prefix(actor: Actor, kind: str) -> str:
    return f"{actor.principal.tenant_id}/site/{kind}/"


def start_upload(actor: Actor, kind: str, content_type: str) -> Upload:
    """A presigned POST for a new image under the organisation's own prefix (type and size in its policy)."""
    if content_type not in IMAGE_TYPES[kind]:
        allowed = ", ".join(IMAGE_TYPES[kind])
        raise ValidationError(
            f"a {kind} is one of {allowed}", errors=[FieldProblem("content_type", f"a {kind} is one of {allowed}")]
        )
    key = f"{_prefix(actor, kind)}{new_id()}"
    post = files.presigned_upload(key, content_type, MAX_BYTES[kind], UPLOAD_EXPIRES_SECONDS)
    return Upload(str(post["url"]), {str(k): str(v) for k, v in post["fields"].items()}, key, MAX_BYTES[kind])


def _image_problem(actor: Actor, kind: str, key: str) -> FieldProblem | None:
    """Why the object at `key` cannot be the organisation's `kind` (None: it can)."""
    field = f"{kind}_key"
    if not re.fullmatch(re.escape(_prefix(actor, kind)) + _ULID, key):
        return FieldProblem(field, f"not an upload key of this organisation's {kind} (POST /api/site-settings/uploads)")
    stored = files.stored_object(key)
    if stored is None:
        return FieldProblem(field, "nothing was uploaded with this key")
    if stored.content_type not in IMAGE_TYPES[kind] or not 0 < stored.size <= MAX_BYTES[kind]:
        allowed = ", ".join(IMAGE_TYPES[kind])
        return FieldProblem(field, f"the upload must be one of {allowed} and at most {MAX_BYTES[kind]} bytes")
    return None


# -- changes ---------------------------------------------------------------------------
def update(actor: Actor, request: SiteSettingsUpdateRequest) -> SiteSettingsResponse:
    """Change the fields the request names, all or nothing; a stale version is a 412 and nothing changes."""
    scope = actor.scope
    if scope.is_platform:
        raise ConflictError("site settings belong to an organisation; the platform keeps the defaults")
    stored = repository.find(scope)
    document = stored or SiteSettings.new(scope)
    expect_version(document, request.version)
    tenant = repository.tenant(scope)
    if tenant is None:
        raise NotFoundError("no such organisation")
    current = _complete(stored.settings if stored else None)
    new, problems = _changed(actor, current, request)
    if problems:
        raise ValidationError(f"{len(problems)} field{'s' if len(problems) > 1 else ''} not valid", errors=problems)
    if stored is not None and new == current:
        return _response(current, stored)
    before = _complete(stored.settings) if stored else None
    document.settings = new
    repository.save(
        actor,
        document,
        tenant,
        before=before,
        password_policy=new["password_policy"],
        session_seconds=new["session_seconds"],
    )
    return _response(new, document)


def _changed(
    actor: Actor, current: dict[str, Any], request: SiteSettingsUpdateRequest
) -> tuple[dict[str, Any], list[FieldProblem]]:
    given = request.model_fields_set
    new = dict(current)
    problems: list[FieldProblem] = []
    for name in _KEEP_UNLESS_GIVEN:
        value = getattr(request, name)
        if name in given and value is not None:
            new[name] = value
    for name in _CLEARABLE:
        if name in given:
            new[name] = getattr(request, name)
    for kind in ("logo", "favicon"):
        field = f"{kind}_key"
        if field in given:
            key = getattr(request, field)
            problem = _image_problem(actor, kind, key) if key is not None and key != current[field] else None
            if problem is not None:
                problems.append(problem)
            new[field] = key
    if request.password_policy is not None:
        new["password_policy"] = {**current["password_policy"], **request.password_policy.model_dump(exclude_none=True)}
    if new["default_language"] != current["default_language"] and not language_enabled(
        actor.scope, new["default_language"]
    ):
        problems.append(FieldProblem("default_language", "not a language the organisation has on (/api/languages)"))
    return new, problems


# -- the login page's configuration -----------------------------------------------------
@dataclass(frozen=True)
class PublicConfig:
    body: TenantConfigResponse | None  # None: the client's copy is current (304)
    etag: str


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return "*" in tags or etag in tags


def public_config(code: str, if_none_match: str | None) -> PublicConfig:
    """What the login page of the organisation `code` shows; an unknown or inactive one is a 404."""
    missing = NotFoundError("no such organisation")
    if code == PLATFORM or not re.fullmatch(TENANT_CODE_PATTERN, code):
        raise missing
    tenant_id = repository.tenant_id(code)
    if tenant_id is None or tenant_id == PLATFORM:
        raise missing
    scope = Scope(tenant_id)
    with use_scope(scope):
        tenant = repository.tenant(scope)
        if tenant is None or tenant.status != "active":
            raise missing
        values = _complete(site.settings(scope))
        rules = PasswordRules(**{k: values["password_policy"][k] for k in _RULES})
        shown = {
            "tenant": code,
            "system_name": values["system_name"],
            "primary_color": values["primary_color"],
            "login_title": values["login_title"],
            "login_subtitle": values["login_subtitle"],
            "login_footer": values["login_footer"],
            "default_language": values["default_language"],
        }
        window = int(utcnow().timestamp()) // ETAG_WINDOW_SECONDS
        fingerprint = json.dumps(
            [shown, rules.model_dump(), values["logo_key"], values["favicon_key"], window], sort_keys=True
        )
        etag = f'"{hashlib.sha256(fingerprint.encode()).hexdigest()[:32]}"'
        if _matches(if_none_match, etag):
            return PublicConfig(None, etag)
        body = TenantConfigResponse(
            **shown,
            logo_url=_url(values["logo_key"]),
            favicon_url=_url(values["favicon_key"]),
            password_rules=rules,
        )
        return PublicConfig(body, etag)
