"""Mail template types (metadata with typed variables and shipped defaults in two languages) and the global
variables every template may use (static ones set by the organisation, config and dynamic ones computed)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from email import message_from_string, policy
from email.message import EmailMessage
from email.utils import getaddresses
from typing import Any

import pytest
from riveredge import config_cache, keys, rendering
from riveredge.db.mail_templates import EmailTemplateVersion
from riveredge.db.models import MailDelivery
from riveredge.errors import NotFoundError, ValidationError
from riveredge.mail_templates import VARIABLE_TYPES, store, types
from riveredge.mail_templates.global_variables import BUILT_IN_KEYS
from riveredge.scope import Scope, use_scope

from local_stack.stack import LocalStack
from tests.integration.accounts import make_user, seed_role
from tests.integration.conftest import TenantFixture
from tests.support import dynamodb_calls

SYSTEM = {
    "verification_code_register",
    "verification_code_reset_password",
    "welcome_email",
    "login_alert",
    "storage_warning",
    "file_share_notification",
    "invite_registration",
}
_NAMES = re.compile(r"\{\{\s*(?:#(?:if|each)\s+)?([A-Za-z_][A-Za-z0-9_]*)")


def _globals(stack: LocalStack, token: str, **headers: str) -> dict[str, dict[str, Any]]:
    reply = stack.request("GET", "/api/email-templates/global-variables", token=token, headers=headers)
    assert reply.status == 200, reply.body
    return {v["key"]: v for v in reply.json()["items"]}


def test_the_seven_system_types_ship_with_typed_variables_and_defaults_in_two_languages(
    stack: LocalStack, fresh_tenant: TenantFixture
) -> None:
    token = fresh_tenant.admin_token
    listed = stack.request("GET", "/api/email-templates/metadata", token=token).json()["items"]
    # The seed's seven, and the platform's own mails moved onto system types beside them
    assert {t["code"] for t in listed} >= SYSTEM and all(t["is_system"] for t in listed)
    assert [t["sort_order"] for t in listed] == sorted(t["sort_order"] for t in listed)
    alert = next(t for t in listed if t["code"] == "login_alert")
    assert alert["category"] == "auth" and alert["name"] == "Sign-in alert"
    assert {v["key"]: (v["type"], v["required"]) for v in alert["variables"]}["login_time"] == ("datetime", True)
    assert all(v["type"] in VARIABLE_TYPES for t in listed for v in t["variables"])
    auth = stack.request("GET", "/api/email-templates/metadata", token=token, query="category=auth").json()["items"]
    assert {t["code"] for t in auth} == {t["code"] for t in listed if t["category"] == "auth"}
    assert {"verification_code_register", "verification_code_reset_password", "login_alert"} <= {
        t["code"] for t in auth
    }
    # One type, in Chinese: its texts, its variables' labels and its shipped default body
    zh = stack.request(
        "GET", "/api/email-templates/metadata/welcome_email", token=token, headers={"Accept-Language": "zh-CN"}
    )
    assert zh.status == 200, zh.body
    body = zh.json()
    assert body["name"] == "欢迎新用户" and body["languages"] == ["en-US", "zh-CN"]
    assert {v["key"]: v["label"] for v in body["variables"]}["login_url"] == "登录链接"
    assert body["default"]["language"] == "zh-CN" and body["default"]["subject"] == "欢迎加入 {{app_name}}"
    en = stack.request("GET", "/api/email-templates/metadata/welcome_email", token=token, query="lang=en-GB").json()
    assert en["default"]["language"] == "en-US" and "{{login_url}}" in en["default"]["html_body"]
    assert stack.request("GET", "/api/email-templates/metadata/nope", token=token).status == 404
    assert stack.request("GET", "/api/email-templates/metadata", token=token, query="category=spam").status == 400


def test_every_shipped_body_uses_only_its_variables_and_the_global_ones() -> None:
    for kind in (t for t in types() if t.code in SYSTEM):
        known = {v.key for v in kind.variables} | BUILT_IN_KEYS
        assert set(kind.defaults) == {"en-US", "zh-CN"}, kind.code
        for language, body in kind.defaults.items():
            for part in (body.subject, body.html, body.text):
                used = set(_NAMES.findall(part)) - {"else"}
                assert used <= known, (kind.code, language, used - known)
            for required in kind.required:
                assert f"{{{{{required}" in body.html + body.subject, (kind.code, language, required)


def test_global_variables_are_static_config_or_dynamic(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    token = fresh_tenant.admin_token
    settings = stack.request("GET", "/api/site-settings", token=token).json()
    renamed = stack.request(
        "PUT",
        "/api/site-settings",
        token=token,
        json_body={"system_name": "Umbra Portal", "version": settings["version"]},
    )
    assert renamed.status == 200, renamed.body
    found = _globals(stack, token)
    assert set(found) == BUILT_IN_KEYS
    assert found["app_name"]["value"] == "Umbra Portal" and found["app_name"]["value_type"] == "config"
    assert found["company_name"]["value"]  # the organisation's name
    assert (
        found["current_year"]["value"] == str(datetime.now(UTC).year)
        and found["current_year"]["value_type"] == "dynamic"
    )
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", found["current_date"]["value"])
    assert found["site_url"]["value"].startswith("http")
    assert found["support_email"] == {**found["support_email"], "value": "", "editable": True, "version": 0}
    assert _globals(stack, token, **{"Accept-Language": "zh-CN"})["support_email"]["label"] == "支持邮箱"

    # The organisation sets a static one, and adds its own
    path = "/api/email-templates/global-variables"
    set_ = stack.request(
        "PUT", f"{path}/support_email", token=token, json_body={"value": "help@umbra.example", "version": 0}
    )
    assert set_.status == 200 and set_.json()["value"] == "help@umbra.example" and set_.json()["version"] == 1
    stale = stack.request("PUT", f"{path}/support_email", token=token, json_body={"value": "x@y.example", "version": 0})
    assert stale.status == 412
    computed = stack.request("PUT", f"{path}/app_name", token=token, json_body={"value": "Mine", "version": 0})
    assert computed.status == 409
    own = stack.request(
        "POST", path, token=token, json_body={"key": "hotline", "label": "Hotline", "value": "+86 400 000"}
    )
    assert own.status == 201 and own.json()["is_system"] is False and own.headers["Location"].endswith("/hotline")
    assert (
        stack.request("POST", path, token=token, json_body={"key": "hotline", "label": "H", "value": "1"}).status == 409
    )
    assert (
        stack.request("POST", path, token=token, json_body={"key": "app_name", "label": "A", "value": "1"}).status
        == 409
    )
    for bad in ({"key": "Bad-Key", "label": "B", "value": "1"}, {"key": "ok", "label": "", "value": "1"}):
        refused = stack.request("POST", path, token=token, json_body=bad)
        assert refused.status == 422, refused.body
    assert _globals(stack, token)["hotline"]["value"] == "+86 400 000"
    assert stack.request("DELETE", f"{path}/support_email", token=token).status == 409
    assert stack.request("DELETE", f"{path}/hotline", token=token, query="version=1").status == 204
    assert "hotline" not in _globals(stack, token)
    assert stack.request("DELETE", f"{path}/hotline", token=token).status == 404


def test_a_warm_list_reads_the_stamps_and_the_organisation_name_only(
    stack: LocalStack, fresh_tenant: TenantFixture
) -> None:
    token = fresh_tenant.admin_token
    _globals(stack, token)  # the container loads them
    with dynamodb_calls("EmailTemplatesFunction") as calls:
        _globals(stack, token)
    assert calls == {"Query": 1, "GetItem": 1}, calls


def test_another_tenants_variables_are_not_seen_nor_changed(
    stack: LocalStack, fresh_tenant: TenantFixture, globex: TenantFixture
) -> None:
    path = "/api/email-templates/global-variables"
    mine = fresh_tenant.admin_token
    made = stack.request("POST", path, token=mine, json_body={"key": "secret_line", "label": "S", "value": "555"})
    assert made.status == 201
    theirs = globex.admin_token
    assert "secret_line" not in _globals(stack, theirs)
    assert (
        stack.request("PUT", f"{path}/secret_line", token=theirs, json_body={"value": "x", "version": 1}).status == 404
    )
    assert stack.request("DELETE", f"{path}/secret_line", token=theirs).status == 404
    assert _globals(stack, mine)["secret_line"]["value"] == "555"
    # Each organisation's computed values are its own
    assert _globals(stack, theirs)["company_name"]["value"] != _globals(stack, mine)["company_name"]["value"]


def test_permissions_guard_every_route(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    path = "/api/email-templates/global-variables"
    member = make_user(stack, fresh_tenant.id, fresh_tenant.code, [])["token"]
    calls: list[tuple[str, str, Any]] = [
        ("GET", "/api/email-templates/metadata", None),
        ("GET", "/api/email-templates/metadata/login_alert", None),
        ("GET", path, None),
        ("POST", path, {"key": "x", "label": "X", "value": "1"}),
        ("PUT", f"{path}/support_email", {"value": "a@b.example", "version": 0}),
        ("DELETE", f"{path}/x", None),
    ]
    for method, route, body in calls:
        assert stack.request(method, route, token=member, json_body=body).status == 403, (method, route)
    viewer = make_user(stack, fresh_tenant.id, fresh_tenant.code, [seed_role(fresh_tenant.id, ["template.view"])])
    for method, route, body in calls:
        expected = 200 if method == "GET" else 403
        assert stack.request(method, route, token=viewer["token"], json_body=body).status == expected, (method, route)


# -- templates -------------------------------------------------------------------------------------

PATH = "/api/email-templates"
WELCOME_HTML = (
    '<p>Hi {{user_name|default:"there"}}, welcome to {{app_name}}.</p><p><a href="{{login_url}}">Sign in</a></p>'
)


def _own(code: str = "weekly_digest", **fields: Any) -> dict[str, Any]:
    """An own-code template: a digest of items, with its variables declared."""
    return {
        "code": code,
        "language": "en-US",
        "name": "Weekly digest",
        "category": "notification",
        "subject": "{{count}} new items at {{company_name}}",
        "html_body": "<ul>{{#each items}}<li>{{@index}}: {{this.title|upper}}</li>{{/each}}</ul>",
        "text_body": "{{#each items}}- {{this.title}}\n{{/each}}",
        "variables": [
            {"key": "count", "label": "Count", "type": "number", "example": 2, "required": True},
            {"key": "items", "label": "Items", "type": "list", "example": [{"title": "a"}, {"title": "b"}]},
        ],
        **fields,
    }


def _welcome(**fields: Any) -> dict[str, Any]:
    return {
        "code": "welcome_email",
        "language": "en-US",
        "subject": "Welcome aboard {{app_name}}",
        "html_body": WELCOME_HTML,
        "text_body": "Hi {{user_name}}, sign in at {{login_url}}",
        **fields,
    }


def _post(stack: LocalStack, token: str, body: dict[str, Any]) -> dict[str, Any]:
    reply = stack.request("POST", PATH, token=token, json_body=body)
    assert reply.status == 201, reply.body
    return dict(reply.json())


def _fields(reply: Any) -> dict[str, str]:
    """A 422's problems by field."""
    assert reply.status == 422, (reply.status, reply.body)
    return {e["field"]: e["message"] for e in reply.json()["errors"]}


def test_an_override_of_a_system_type_takes_its_name_category_and_variables(
    stack: LocalStack, fresh_tenant: TenantFixture
) -> None:
    token = fresh_tenant.admin_token
    reply = stack.request("POST", PATH, token=token, json_body=_welcome())
    assert reply.status == 201, reply.body
    made = reply.json()
    assert reply.headers["Location"] == f"{PATH}/{made['id']}"
    assert made["is_system"] is True and made["version"] == 1 and made["is_active"] is True
    assert (made["name"], made["category"], made["code"], made["language"]) == (
        "Welcome",
        "notification",
        "welcome_email",
        "en-US",
    )
    assert {v["key"] for v in made["variables"]} == {"user_name", "user_email", "login_url"}
    assert made["html_body"] == WELCOME_HTML and made["html_bytes"] == len(WELCOME_HTML.encode())
    # One template per code and language: another language is another template
    assert stack.request("POST", PATH, token=token, json_body=_welcome()).status == 409
    zh = _post(stack, token, _welcome(language="zh-CN", subject="欢迎 {{app_name}}"))
    assert zh["name"] == "欢迎新用户"
    # A system type's category and variables are its own
    refused = stack.request("POST", PATH, token=token, json_body=_welcome(language="fr-FR", category="marketing"))
    assert set(_fields(refused)) == {"category"}
    declared = [{"key": "x", "label": "X"}]
    assert set(
        _fields(stack.request("POST", PATH, token=token, json_body=_welcome(language="fr-FR", variables=declared)))
    ) == {"variables"}
    got = stack.request("GET", f"{PATH}/{made['id']}", token=token).json()
    assert got == made


def test_the_list_filters_by_code_category_language_and_state_in_pages(
    stack: LocalStack, fresh_tenant: TenantFixture
) -> None:
    token = fresh_tenant.admin_token
    welcome = _post(stack, token, _welcome())
    welcome_zh = _post(stack, token, _welcome(language="zh-CN", is_active=False))
    digest = _post(stack, token, _own())
    alert = _post(stack, token, _own("promo_blast", category="marketing", name="Promo"))

    def ids(query: str = "") -> list[str]:
        reply = stack.request("GET", PATH, token=token, query=query)
        assert reply.status == 200, reply.body
        assert all("html_body" not in t for t in reply.json()["items"])  # the list carries no bodies
        return [t["id"] for t in reply.json()["items"]]

    assert ids() == [welcome["id"], welcome_zh["id"], digest["id"], alert["id"]]
    assert ids("code=welcome_email") == [welcome["id"], welcome_zh["id"]]
    assert ids("category=marketing") == [alert["id"]]
    assert ids("language=zh-CN") == [welcome_zh["id"]]
    assert ids("is_active=false") == [welcome_zh["id"]]
    assert ids("code=welcome_email&is_active=true") == [welcome["id"]]
    # Pages follow the cursor; a cursor minted for another filter is refused
    seen, cursor = [], None
    while True:
        query = "limit=1" + (f"&cursor={cursor}" if cursor else "")
        page = stack.request("GET", PATH, token=token, query=query).json()
        seen += [t["id"] for t in page["items"]]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    assert seen == ids()
    first = stack.request("GET", PATH, token=token, query="limit=1").json()["next_cursor"]
    assert stack.request("GET", PATH, token=token, query=f"limit=1&code=x&cursor={first}").status == 400
    for bad in ("category=spam", "language=Not a tag", "is_active=maybe", "limit=0", "limit=201"):
        assert stack.request("GET", PATH, token=token, query=bad).status == 400, bad


def test_every_save_is_a_new_version_kept_listed_and_rolled_back(
    stack: LocalStack, fresh_tenant: TenantFixture
) -> None:
    token = fresh_tenant.admin_token
    made = _post(stack, token, _own())
    path = f"{PATH}/{made['id']}"
    second = stack.request("PUT", path, token=token, json_body={"subject": "Digest: {{count}}", "version": 1})
    assert second.status == 200, second.body
    assert second.json()["version"] == 2 and second.json()["html_body"] == made["html_body"]
    third = stack.request("PUT", path, token=token, json_body={"is_active": False, "name": "Digest", "version": 2})
    assert third.json()["version"] == 3 and third.json()["subject"] == "Digest: {{count}}"
    stale = stack.request("PUT", path, token=token, json_body={"subject": "Lost", "version": 2})
    assert stale.status == 412
    listed = stack.request("GET", f"{path}/versions", token=token).json()["items"]
    assert [(v["version"], v["action"]) for v in listed] == [(3, "update"), (2, "update"), (1, "create")]
    assert "html_body" not in listed[0]
    one = stack.request("GET", f"{path}/versions/1", token=token)
    assert one.status == 200 and one.json()["subject"] == made["subject"] and one.json()["name"] == "Weekly digest"
    assert {v["key"] for v in one.json()["variables"]} == {"count", "items"}
    for missing in ("99", "0", "x"):
        assert stack.request("GET", f"{path}/versions/{missing}", token=token).status == 404, missing
    # Rollback: a new version with the content of version 1; whether it is active stays as it is
    back = stack.request("POST", f"{path}/rollback", token=token, json_body={"to_version": 1, "version": 3})
    assert back.status == 200, back.body
    rolled = back.json()
    assert rolled["version"] == 4 and rolled["subject"] == made["subject"] and rolled["name"] == "Weekly digest"
    assert rolled["is_active"] is False
    newest = stack.request("GET", f"{path}/versions", token=token, query="limit=1").json()
    assert newest["items"][0] | {"created_at": ""} == {
        **newest["items"][0],
        "created_at": "",
        "version": 4,
        "action": "rollback",
        "source_version": 1,
    }
    assert newest["next_cursor"]
    for to_version, field in ((4, "to_version"), (9, "to_version")):
        refused = stack.request("POST", f"{path}/rollback", token=token, json_body={"to_version": to_version})
        assert set(_fields(refused)) == {field}
    assert (
        stack.request("POST", f"{path}/rollback", token=token, json_body={"to_version": 1, "version": 3}).status == 412
    )
    assert stack.request("GET", path, token=token).json()["version"] == 4


def test_a_system_template_is_reset_not_deleted_and_an_own_one_is_deleted_with_its_versions(
    stack: LocalStack, fresh_tenant: TenantFixture
) -> None:
    token = fresh_tenant.admin_token
    welcome = _post(stack, token, _welcome(description="Ours"))
    path = f"{PATH}/{welcome['id']}"
    refused = stack.request("DELETE", path, token=token)
    assert refused.status == 409 and refused.content_type == "application/problem+json"
    reset = stack.request("POST", f"{path}/reset", token=token, json_body={"version": 1})
    assert reset.status == 200, reset.body
    body = reset.json()
    shipped = next(t for t in types() if t.code == "welcome_email").defaults["en-US"]
    assert (body["subject"], body["html_body"], body["text_body"]) == (shipped.subject, shipped.html, shipped.text)
    assert body["version"] == 2 and body["description"] is None
    versions = stack.request("GET", f"{path}/versions", token=token).json()["items"]
    assert [v["action"] for v in versions] == ["reset", "create"]
    assert stack.request("POST", f"{path}/reset", token=token, json_body={"version": 1}).status == 412

    own = _post(stack, token, _own())
    own_path = f"{PATH}/{own['id']}"
    assert stack.request("POST", f"{own_path}/reset", token=token).status == 409
    assert stack.request("PUT", own_path, token=token, json_body={"name": "Two", "version": 1}).status == 200
    assert stack.request("DELETE", own_path, token=token, query="version=1").status == 412
    assert stack.request("DELETE", own_path, token=token, query="version=2").status == 204
    assert stack.request("GET", own_path, token=token).status == 404
    assert stack.request("GET", f"{own_path}/versions", token=token).status == 404
    scope = Scope(fresh_tenant.id)
    with use_scope(scope):
        left = list(EmailTemplateVersion.query(keys.email_template_versions(scope, own["id"])))
    assert left == []
    # The code is free again
    assert _post(stack, token, _own())["version"] == 1


SSTI = [
    "{{ ''.__class__ }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ self._TemplateReference__context }}",
    "{{ request|attr('application') }}",
    '{{ user_name|attr:"__class__" }}',
    "{{ '%s'|format(user_name) }}",
    "{{ user_name.__class__.__mro__ }}",
    "{{ config.items() }}",
    "{% for x in ().__class__.__base__.__subclasses__() %}{{x}}{% endfor %}{{#if}}",
    "{{ lipsum.__globals__ }}",
    "{{#each (1..1000000)}}x{{/each}}",
]


def test_a_template_that_cannot_be_rendered_is_refused_naming_the_field_and_nothing_is_stored(
    stack: LocalStack, fresh_tenant: TenantFixture
) -> None:
    token = fresh_tenant.admin_token
    unclosed = _fields(
        stack.request("POST", PATH, token=token, json_body=_welcome(html_body="<p>\n{{#if user_name}}hi"))
    )
    assert unclosed == {"html_body": "line 2, column 1: {{#if}} is never closed (missing {{/if}})"}
    unknown = _fields(stack.request("POST", PATH, token=token, json_body=_welcome(subject="Hi {{nickname}}")))
    assert unknown == {"subject": "line 1, column 6: unknown variable 'nickname'"}
    bad_filter = _fields(stack.request("POST", PATH, token=token, json_body=_welcome(text_body="{{login_url|shout}}")))
    assert "unknown filter 'shout'" in bad_filter["text_body"]
    # Header injection: a subject is one line, whatever it holds
    injected = _fields(
        stack.request("POST", PATH, token=token, json_body=_welcome(subject="Hi\r\nBcc: x@evil.example"))
    )
    assert set(injected) == {"subject"} and "line break" in injected["subject"]
    for payload in SSTI:
        refused = stack.request("POST", PATH, token=token, json_body=_welcome(html_body=payload))
        assert set(_fields(refused)) == {"html_body"}, payload
    # Sizes: the API's body limit first (413), then the template's own (422)
    huge = stack.request("POST", PATH, token=token, json_body=_welcome(html_body="x" * (5 * 1024 * 1024)))
    assert huge.status == 413 and huge.content_type == "application/problem+json"
    assert set(_fields(stack.request("POST", PATH, token=token, json_body=_welcome(html_body="x" * 70_000)))) == {
        "html_body"
    }
    wide = _fields(stack.request("POST", PATH, token=token, json_body=_welcome(html_body="模" * 30_000)))
    assert wide == {"html_body": "the template is 90,000 bytes; at most 65,536 are allowed"}
    twice = [{"key": "count", "label": "A"}, {"key": "count", "label": "B"}]
    assert set(_fields(stack.request("POST", PATH, token=token, json_body=_own(variables=twice)))) == {
        "variables.1.key"
    }
    # An own code's body may use only what it declares
    assert set(_fields(stack.request("POST", PATH, token=token, json_body=_own(variables=[])))) == {
        "subject",
        "html_body",
        "text_body",
    }
    assert stack.request("GET", PATH, token=token).json()["items"] == []
    # A save that fails its check leaves the template as it was
    made = _post(stack, token, _welcome())
    path = f"{PATH}/{made['id']}"
    refused = stack.request("PUT", path, token=token, json_body={"html_body": "{{#each}}", "version": 1})
    assert set(_fields(refused)) == {"html_body"}
    assert stack.request("PUT", path, token=token, json_body={"code": "login_alert", "version": 1}).status == 422
    assert stack.request("GET", path, token=token).json() == made
    assert len(stack.request("GET", f"{path}/versions", token=token).json()["items"]) == 1


def _compose(tenant: TenantFixture, code: str, context: dict[str, Any], language: str | None = None) -> store.Composed:
    scope = Scope(tenant.id)
    with use_scope(scope):
        return store.compose(scope, code, context, language)


def test_compose_picks_the_active_template_in_the_language_else_the_system_default(
    stack: LocalStack, fresh_tenant: TenantFixture
) -> None:
    token = fresh_tenant.admin_token
    context = {"user_name": "<b>Ann</b>", "user_email": "ann@people.example", "login_url": "https://x.example/in"}
    # No template of the organisation's: the shipped default in the language asked for
    shipped = _compose(fresh_tenant, "welcome_email", context, "zh-CN")
    assert (shipped.template_id, shipped.version, shipped.language, shipped.category) == (
        None,
        None,
        "zh-CN",
        "notification",
    )
    assert shipped.subject == "欢迎加入 RiverEdge"
    made = _post(stack, token, _welcome())
    mine = _compose(fresh_tenant, "welcome_email", context, "en-GB")  # en-GB: the en-US template
    assert (mine.template_id, mine.version, mine.language) == (made["id"], 1, "en-US")
    assert mine.subject == "Welcome aboard RiverEdge"
    assert "Hi &lt;b&gt;Ann&lt;/b&gt;, welcome to RiverEdge." in mine.html  # escaped in HTML
    assert mine.text == "Hi <b>Ann</b>, sign in at https://x.example/in"  # not in text
    assert _compose(fresh_tenant, "welcome_email", context, "zh-CN").template_id is None
    assert _compose(fresh_tenant, "welcome_email", context).template_id == made["id"]  # the default language
    # A new version is what the next mail is built from (the container's cache follows the stamp)
    changed = stack.request("PUT", f"{PATH}/{made['id']}", token=token, json_body={"subject": "v2", "version": 1})
    assert changed.status == 200
    assert (_compose(fresh_tenant, "welcome_email", context, "en-US").subject, mine.version) == ("v2", 1)
    # Switched off: the shipped default again
    off = stack.request("PUT", f"{PATH}/{made['id']}", token=token, json_body={"is_active": False, "version": 2})
    assert off.status == 200
    fallback = _compose(fresh_tenant, "welcome_email", context, "en-US")
    assert fallback.template_id is None and fallback.subject == "Welcome to RiverEdge"
    # An own code: sendable while active only; an unknown code is not found
    own = _post(stack, token, _own())
    digest = _compose(fresh_tenant, "weekly_digest", {"count": 1, "items": [{"title": "x<y"}]}, "zh-CN")
    assert (digest.template_id, digest.language, digest.subject) == (
        own["id"],
        "en-US",
        "1 new items at " + digest.subject.split(" at ")[1],
    )
    assert digest.html == "<ul><li>0: X&lt;Y</li></ul>" and digest.text == "- x<y\n"
    with pytest.raises(ValidationError) as missing:
        _compose(fresh_tenant, "weekly_digest", {"items": []})
    assert [(e.field, e.message) for e in missing.value.errors] == [
        ("variables.count", "missing required variable 'count'")
    ]
    stack.request("PUT", f"{PATH}/{own['id']}", token=token, json_body={"is_active": False, "version": 1})
    with pytest.raises(NotFoundError):
        _compose(fresh_tenant, "weekly_digest", {"count": 1})
    with pytest.raises(NotFoundError):
        _compose(fresh_tenant, "no_such_code", {})


def test_a_warm_compose_reuses_the_compiled_version_and_reads_no_template(
    stack: LocalStack, fresh_tenant: TenantFixture
) -> None:
    made = _post(stack, fresh_tenant.admin_token, _welcome())
    context = {"user_email": "a@b.example", "login_url": "https://x.example"}
    _compose(fresh_tenant, "welcome_email", context, "en-US")
    before = rendering.cache_info()
    with dynamodb_calls() as calls, config_cache.request():  # as a request or an event does
        again = _compose(fresh_tenant, "welcome_email", context, "en-US")
    assert again.template_id == made["id"]
    after = rendering.cache_info()
    assert (after.hits - before.hits, after.misses - before.misses) == (3, 0)
    # The stamps (read once per request or event) and the organisation's name (company_name); no template read
    assert calls == {"Query": 1, "GetItem": 1}, calls


def test_a_preview_renders_the_examples_under_the_values_sent_or_an_unsaved_draft(
    stack: LocalStack, fresh_tenant: TenantFixture
) -> None:
    token = fresh_tenant.admin_token
    made = _post(stack, token, _welcome())
    path = f"{PATH}/{made['id']}/preview"
    plain = stack.request("POST", path, token=token, json_body={})
    assert plain.status == 200, plain.body
    assert plain.json() == {
        "code": "welcome_email",
        "language": "en-US",
        "template_id": made["id"],
        "version": 1,
        "subject": "Welcome aboard RiverEdge",
        "html": '<p>Hi Zhang San, welcome to RiverEdge.</p><p><a href="https://app.example.com/login">Sign in</a></p>',
        "text": "Hi Zhang San, sign in at https://app.example.com/login",
    }
    assert stack.request("POST", path, token=token).json() == plain.json()  # no body: the examples
    mine = stack.request("POST", path, token=token, json_body={"variables": {"user_name": "<i>Bo</i>"}}).json()
    assert mine["html"].startswith("<p>Hi &lt;i&gt;Bo&lt;/i&gt;,") and mine["text"].startswith("Hi <i>Bo</i>,")
    draft = stack.request("POST", path, token=token, json_body={"html_body": "<p>{{user_email}} {{current_year}}</p>"})
    assert draft.json()["html"] == f"<p>user@example.com {datetime.now(UTC).year}</p>"
    assert draft.json()["subject"] == plain.json()["subject"]
    assert stack.request("GET", f"{PATH}/{made['id']}", token=token).json()["version"] == 1  # nothing saved
    # What cannot be rendered is a 422 naming it
    missing = stack.request("POST", path, token=token, json_body={"variables": {"login_url": None}})
    assert _fields(missing) == {"variables.login_url": "missing required variable 'login_url'"}
    assert set(_fields(stack.request("POST", path, token=token, json_body={"html_body": "{{/if}}"}))) == {"html_body"}
    injected = {"subject": "Hi {{user_name}}", "variables": {"user_name": "x\r\nBcc: y@evil.example"}}
    assert set(_fields(stack.request("POST", path, token=token, json_body=injected))) == {"subject"}
    own = _post(stack, token, _own())
    looped = {"variables": {"items": [{"title": "t"}] * 20_000}}
    too_many = _fields(stack.request("POST", f"{PATH}/{own['id']}/preview", token=token, json_body=looped))
    assert "10,000 loop iterations" in too_many["html_body"]
    assert stack.request("POST", path, token=token, json_body={"variables": {}, "extra": 1}).status == 422
    assert stack.request("POST", f"{PATH}/nope/preview", token=token, json_body={}).status == 404


def test_a_system_types_default_is_previewed_by_code_in_a_language(
    stack: LocalStack, fresh_tenant: TenantFixture
) -> None:
    token = fresh_tenant.admin_token
    path = f"{PATH}/metadata/verification_code_register/preview"
    zh = stack.request("POST", path, token=token, json_body={"language": "zh-CN", "variables": {"code": "424242"}})
    assert zh.status == 200, zh.body
    body = zh.json()
    assert (body["language"], body["template_id"], body["version"]) == ("zh-CN", None, None)
    assert "424242" in body["html"] and "424242" in body["text"] and "RiverEdge" in body["subject"]
    asked = stack.request("POST", path, token=token, headers={"Accept-Language": "zh-CN"})
    assert asked.json()["language"] == "zh-CN"
    assert stack.request("POST", path, token=token).json()["language"] == "en-US"  # the organisation's default
    draft = stack.request("POST", path, token=token, json_body={"subject": "Code {{code}}"})
    assert draft.json()["subject"] == "Code 123456"
    assert set(_fields(stack.request("POST", path, token=token, json_body={"subject": "{{nope}}"}))) == {"subject"}
    assert stack.request("POST", f"{PATH}/metadata/nope/preview", token=token).status == 404


def test_another_tenants_templates_are_not_seen_nor_changed(
    stack: LocalStack, fresh_tenant: TenantFixture, globex: TenantFixture
) -> None:
    mine = fresh_tenant.admin_token
    made = _post(stack, mine, _own())
    _post(stack, mine, _welcome())
    path = f"{PATH}/{made['id']}"
    theirs = globex.admin_token
    assert made["id"] not in [t["id"] for t in stack.request("GET", PATH, token=theirs).json()["items"]]
    calls: list[tuple[str, str, Any]] = [
        ("GET", path, None),
        ("PUT", path, {"name": "Taken", "version": 1}),
        ("DELETE", path, None),
        ("GET", f"{path}/versions", None),
        ("GET", f"{path}/versions/1", None),
        ("POST", f"{path}/rollback", {"to_version": 1}),
        ("POST", f"{path}/reset", None),
        ("POST", f"{path}/preview", {}),
        ("POST", f"{path}/test", {}),
    ]
    for method, route, body in calls:
        reply = stack.request(method, route, token=theirs, json_body=body)
        assert reply.status == 404, (method, route, reply.status)
    # Their own template of the same code is theirs; mine is still what I made
    assert _post(stack, theirs, _own())["id"] != made["id"]
    assert stack.request("GET", path, token=mine).json() == made
    with use_scope(Scope(globex.id)):
        assert (
            store.compose(
                Scope(globex.id), "welcome_email", {"user_email": "a@b.example", "login_url": "x"}
            ).template_id
            is None
        )


def test_permissions_guard_every_template_route(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    admin = fresh_tenant.admin_token
    made = _post(stack, admin, _own())
    path = f"{PATH}/{made['id']}"
    reads: list[tuple[str, str, Any]] = [
        ("GET", PATH, None),
        ("GET", path, None),
        ("GET", f"{path}/versions", None),
        ("GET", f"{path}/versions/1", None),
        ("POST", f"{path}/preview", {}),
        ("POST", f"{PATH}/metadata/welcome_email/preview", {}),
    ]
    writes: list[tuple[str, str, Any, str]] = [
        ("POST", PATH, _own("other_code"), "template.create"),
        ("PUT", path, {"name": "X", "version": 1}, "template.edit"),
        ("POST", f"{path}/rollback", {"to_version": 1}, "template.edit"),
        ("POST", f"{path}/reset", None, "template.edit"),
        ("POST", f"{path}/test", {}, "template.edit"),
        ("POST", f"{PATH}/metadata/welcome_email/test", {}, "template.edit"),
        ("DELETE", path, None, "template.delete"),
    ]
    member = make_user(stack, fresh_tenant.id, fresh_tenant.code, [])["token"]
    for method, route, body in [*reads, *((m, r, b) for m, r, b, _ in writes)]:
        assert stack.request(method, route, token=member, json_body=body).status == 403, (method, route)
    viewer = make_user(stack, fresh_tenant.id, fresh_tenant.code, [seed_role(fresh_tenant.id, ["template.view"])])
    for method, route, body in reads:
        assert stack.request(method, route, token=viewer["token"], json_body=body).status == 200, (method, route)
    for method, route, body, needed in writes:
        reply = stack.request(method, route, token=viewer["token"], json_body=body)
        assert reply.status == 403 and needed in reply.json()["detail"], (method, route, reply.body)


def _received(stack: LocalStack, address: str, since: int = 0) -> list[EmailMessage]:
    """The mail moto's SES outbox holds for `address` (from its `since`-th message on), parsed back from its raw
    MIME with the email package."""
    found = []
    for sent in stack.sent_mail()[since:]:
        parsed = message_from_string(sent["raw"], policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        if address in [a for _, a in getaddresses([str(v) for v in parsed.get_all("To", [])])]:
            found.append(parsed)
    return found


def _delivery(tenant: TenantFixture, delivery_id: str) -> MailDelivery:
    scope = Scope(tenant.id)
    with use_scope(scope):
        return MailDelivery.get_or_404(keys.mail_delivery(scope, delivery_id))


def test_a_test_send_renders_the_template_and_lands_in_the_outbox_marked_as_a_test(
    stack: LocalStack, fresh_tenant: TenantFixture
) -> None:
    token = fresh_tenant.admin_token
    made = _post(stack, token, _welcome(subject="欢迎 {{user_name}} — {{app_name}}", is_active=False))
    since = len(stack.sent_mail())  # the admin's own welcome is there already
    reply = stack.request(
        "POST", f"{PATH}/{made['id']}/test", token=token, json_body={"variables": {"user_name": "<Ann>"}}
    )
    assert reply.status == 202, reply.body
    answer = reply.json()
    assert reply.headers["Location"] == f"/api/mail-logs/{answer['delivery_id']}"
    assert (answer["to"], answer["template_id"], answer["version"]) == (fresh_tenant.admin_email, made["id"], 1)
    assert answer["subject"] == "欢迎 <Ann> — RiverEdge"
    # The mail as a client receives it: headers, an alternative of text and HTML, UTF-8
    [mail] = _received(stack, fresh_tenant.admin_email, since)
    assert str(mail["Subject"]) == "欢迎 <Ann> — RiverEdge"
    assert mail.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in mail.iter_parts()] == ["text/plain", "text/html"]
    assert str(mail["From"]) and str(mail["To"]) == fresh_tenant.admin_email
    html, text = mail.get_body(("html",)), mail.get_body(("plain",))
    assert html is not None and text is not None
    assert html.get_content_charset() == "utf-8" and text.get_content_charset() == "utf-8"
    assert "<p>Hi &lt;Ann&gt;, welcome to RiverEdge.</p>" in html.get_content()
    assert 'href="https://app.example.com/login"' in html.get_content()
    assert text.get_content().strip() == "Hi <Ann>, sign in at https://app.example.com/login"
    record = _delivery(fresh_tenant, answer["delivery_id"])
    assert (record.test, record.template_code, record.template_id, record.template_version, record.category) == (
        True,
        "welcome_email",
        made["id"],
        1,
        "notification",
    )
    assert record.status == "sent"
    # A template that cannot be rendered sends nothing
    own = _post(stack, token, _own())
    before = len(stack.sent_mail())
    refused = stack.request("POST", f"{PATH}/{own['id']}/test", token=token, json_body={"variables": {"count": None}})
    assert set(_fields(refused)) == {"variables.count"}
    assert len(stack.sent_mail()) == before


def test_a_test_to_another_address_needs_mail_send(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    made = _post(stack, fresh_tenant.admin_token, _own())
    path = f"{PATH}/{made['id']}/test"
    editor = make_user(stack, fresh_tenant.id, fresh_tenant.code, [seed_role(fresh_tenant.id, ["template.edit"])])
    elsewhere = f"qa-{uuid.uuid4().hex[:8]}@people.example"
    refused = stack.request("POST", path, token=editor["token"], json_body={"to": elsewhere})
    assert refused.status == 403 and "mail.send" in refused.json()["detail"]
    own = stack.request("POST", path, token=editor["token"], json_body={"to": editor["email"].upper()})
    assert own.status == 202 and own.json()["to"] == editor["email"]
    sender = make_user(
        stack, fresh_tenant.id, fresh_tenant.code, [seed_role(fresh_tenant.id, ["template.edit", "mail.send"])]
    )
    sent = stack.request("POST", path, token=sender["token"], json_body={"to": elsewhere, "variables": {"count": 7}})
    assert sent.status == 202, sent.body
    [mail] = _received(stack, elsewhere)
    assert str(mail["Subject"]).startswith("7 new items at ")
    bad = stack.request("POST", path, token=sender["token"], json_body={"to": "x@y.example\r\nBcc: z@evil.example"})
    assert set(_fields(bad)) == {"to"}
    assert _received(stack, "z@evil.example") == []


def test_a_system_types_default_is_test_sent_by_code(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    token = fresh_tenant.admin_token
    path = f"{PATH}/metadata/verification_code_register/test"
    since = len(stack.sent_mail())
    reply = stack.request("POST", path, token=token, json_body={"language": "zh-CN", "variables": {"code": "909090"}})
    assert reply.status == 202, reply.body
    assert reply.json()["template_id"] is None and reply.json()["version"] is None
    [mail] = _received(stack, fresh_tenant.admin_email, since)
    assert "909090" in mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    record = _delivery(fresh_tenant, reply.json()["delivery_id"])
    assert (record.test, record.template_code, record.template_id, record.language) == (
        True,
        "verification_code_register",
        None,
        "zh-CN",
    )
    assert stack.request("POST", f"{PATH}/metadata/nope/test", token=token).status == 404
