"""Mail template types (metadata with typed variables and shipped defaults in two languages) and the global
variables every template may use (static ones set by the organisation, config and dynamic ones computed)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from riveredge.mail_templates import VARIABLE_TYPES, types
from riveredge.mail_templates.global_variables import BUILT_IN_KEYS

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
    assert {t["code"] for t in listed} == SYSTEM and all(t["is_system"] for t in listed)
    assert [t["sort_order"] for t in listed] == sorted(t["sort_order"] for t in listed)
    alert = next(t for t in listed if t["code"] == "login_alert")
    assert alert["category"] == "auth" and alert["name"] == "Sign-in alert"
    assert {v["key"]: (v["type"], v["required"]) for v in alert["variables"]}["login_time"] == ("datetime", True)
    assert all(v["type"] in VARIABLE_TYPES for t in listed for v in t["variables"])
    auth = stack.request("GET", "/api/email-templates/metadata", token=token, query="category=auth").json()["items"]
    assert {t["code"] for t in auth} == {
        "verification_code_register",
        "verification_code_reset_password",
        "login_alert",
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
