"""Languages: shipped and own languages, translation bundles with fallback, problem titles in the caller's
language, all per tenant."""

from __future__ import annotations

from typing import Any

from riveredge import config_cache, keys, site
from riveredge.db.changes import System, change
from riveredge.db.models import SiteSettings
from riveredge.scope import Scope, use_scope

from local_stack.stack import LocalStack
from tests.integration.accounts import make_user
from tests.integration.conftest import TenantFixture
from tests.support import dynamodb_calls


def _bundle(stack: LocalStack, token: str, lang: str) -> dict[str, Any]:
    reply = stack.request("GET", f"/api/i18n/{lang}", token=token)
    assert reply.status == 200, reply.body
    assert reply.headers["Content-Language"] == reply.json()["language"]
    return dict(reply.json())


def _import(stack: LocalStack, token: str, code: str, translations: dict[str, Any], mode: str = "merge") -> Any:
    body = {"translations": translations, "mode": mode}
    return stack.request("POST", f"/api/languages/{code}/translations/import", token=token, json_body=body)


def _default_language(tenant_id: str, language: str) -> None:
    """Set the tenant's default language as the site settings store it."""
    scope = Scope(tenant_id)
    with use_scope(scope):
        settings = SiteSettings.find(keys.site_settings(scope)) or SiteSettings.new(scope)
        before = settings.snapshot()
        settings.settings = {**(settings.settings or {}), "default_language": language}
        with change(System(scope, "test"), "site.update", settings, before=before) as c:
            c.save(settings)
            config_cache.bump(c, site.KIND)


def test_the_shipped_languages_are_always_there(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    token = fresh_tenant.admin_token
    listed = stack.request("GET", "/api/languages", token=token).json()["items"]
    assert [(lang["code"], lang["shipped"], lang["default"]) for lang in listed] == [
        ("zh-CN", True, False),
        ("en-US", True, True),
    ]
    assert _bundle(stack, token, "zh-CN")["translations"]["common.save"] == "保存"
    assert stack.request("DELETE", "/api/languages/zh-CN", token=token).status == 409
    off = stack.request("PUT", "/api/languages/en-US", token=token, json_body={"enabled": False, "version": 0})
    assert off.status == 409  # the default language stays on
    renamed = stack.request("PUT", "/api/languages/zh-CN", token=token, json_body={"name": "中文", "version": 0})
    assert renamed.status == 200 and renamed.json()["name"] == "中文" and renamed.json()["version"] == 1


def test_a_bundle_falls_back_to_the_default_language_then_to_english(
    stack: LocalStack, fresh_tenant: TenantFixture
) -> None:
    token = fresh_tenant.admin_token
    made = stack.request("POST", "/api/languages", token=token, json_body={"code": "fr-FR", "name": "Français"})
    assert made.status == 201 and made.headers["Location"] == "/api/languages/fr-FR"
    merged = _import(stack, token, "fr-FR", {"common.save": "Enregistrer", "app.only_here": "Ici"})
    assert merged.json() == {"added": 2, "changed": 0, "removed": 0, "total": 2}
    french = _bundle(stack, token, "fr-FR")
    assert french["language"] == "fr-FR"
    assert french["translations"]["common.save"] == "Enregistrer"
    assert french["translations"]["common.cancel"] == "Cancel"  # missing in French: the default (en-US)
    # With Chinese as the default language, a missing key shows in Chinese, an unknown language is Chinese
    _default_language(fresh_tenant.id, "zh-CN")
    assert _bundle(stack, token, "fr-FR")["translations"]["common.cancel"] == "取消"
    unknown = _bundle(stack, token, "de-DE")
    assert unknown["language"] == "zh-CN" and unknown["requested"] == "de-DE"
    # A language switched off is served as the default
    version = stack.request("GET", "/api/languages/fr-FR", token=token).json()["version"]
    off = stack.request("PUT", "/api/languages/fr-FR", token=token, json_body={"enabled": False, "version": version})
    assert off.status == 200
    assert _bundle(stack, token, "fr-FR")["language"] == "zh-CN"
    # Replacing the bundle removes what the document does not hold
    replaced = _import(stack, token, "fr-FR", {"common.save": "Sauver"}, mode="replace")
    assert replaced.json() == {"added": 0, "changed": 1, "removed": 1, "total": 1}
    exported = stack.request("GET", "/api/languages/fr-FR/translations/export", token=token).json()
    assert exported["translations"] == {"common.save": "Sauver"}
    own = stack.request("GET", "/api/languages/fr-FR/translations", token=token).json()
    assert own["translations"] == {"common.save": "Sauver"} and own["shipped_keys"] == 0
    # The default language cannot be deleted; another one goes with its translations
    assert stack.request("DELETE", "/api/languages/fr-FR", token=token).status == 204
    assert stack.request("GET", "/api/languages/fr-FR/translations", token=token).status == 404


def test_an_organisation_rewords_a_shipped_language_for_itself_only(
    stack: LocalStack, fresh_tenant: TenantFixture, globex: TenantFixture
) -> None:
    assert _import(stack, fresh_tenant.admin_token, "zh-CN", {"common.save": "保存更改"}).status == 200
    assert _bundle(stack, fresh_tenant.admin_token, "zh-CN")["translations"]["common.save"] == "保存更改"
    assert _bundle(stack, globex.admin_token, "zh-CN")["translations"]["common.save"] == "保存"


def test_a_warm_bundle_read_costs_one_dynamodb_call(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    token = fresh_tenant.admin_token
    _import(stack, token, "zh-CN", {"common.save": "存"})
    _bundle(stack, token, "zh-CN")
    for _ in range(3):
        with dynamodb_calls("LanguagesFunction") as calls:
            assert _bundle(stack, token, "zh-CN")["translations"]["common.save"] == "存"
        assert calls == {"Query": 1}, calls


def test_bad_translations_name_the_field_and_store_nothing(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    token = fresh_tenant.admin_token
    for translations, field in [({"common.save": 5}, "translations.common.save"), ([1, 2], "translations")]:
        refused = _import(stack, token, "zh-CN", translations)  # type: ignore[arg-type]
        assert refused.status == 422, refused.body
        assert {e["field"] for e in refused.json()["errors"]} == {field}, refused.body
    huge = {f"k{n}": "x" * 4000 for n in range(100)}
    too_big = _import(stack, token, "zh-CN", huge)
    assert too_big.status == 422 and too_big.json()["errors"][0]["field"] == "translations"
    bad_code = stack.request("POST", "/api/languages", token=token, json_body={"code": "French", "name": "F"})
    assert bad_code.status == 422 and bad_code.json()["errors"][0]["field"] == "code"
    assert stack.request("GET", "/api/languages/zh-CN/translations", token=token).json()["translations"] == {}


def test_problem_titles_follow_the_callers_language(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    token = fresh_tenant.admin_token
    chinese = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}
    missing = stack.request("GET", "/api/languages/xx-YY", token=token, headers=chinese)
    assert missing.status == 404 and missing.json()["title"] == "未找到"
    assert missing.headers["Content-Language"] == "zh-CN" and missing.headers["Vary"] == "Accept-Language"
    member = make_user(stack, fresh_tenant.id, fresh_tenant.code, [])["token"]
    refused = stack.request("GET", "/api/languages", token=member, headers={"Accept-Language": "zh"})
    assert refused.status == 403 and refused.json()["title"] == "没有权限"
    invalid = stack.request("POST", "/api/languages", token=token, json_body={"code": 1}, headers=chinese)
    assert invalid.status == 422 and invalid.json()["title"] == "请求体校验失败"
    english = stack.request("GET", "/api/languages/xx-YY", token=token, headers={"Accept-Language": "fr-FR"})
    assert english.json()["title"] == "Not found" and english.headers["Content-Language"] == "en-US"
    assert stack.request("GET", "/api/languages/xx-YY", token=token).json()["title"] == "Not found"


def test_another_tenants_language_answers_404(
    stack: LocalStack, fresh_tenant: TenantFixture, globex: TenantFixture
) -> None:
    token = fresh_tenant.admin_token
    assert stack.request("POST", "/api/languages", token=token, json_body={"code": "it-IT", "name": "It"}).status == 201
    other = globex.admin_token
    for method, path, body in [
        ("GET", "/api/languages/it-IT", None),
        ("PUT", "/api/languages/it-IT", {"name": "Stolen", "version": 1}),
        ("DELETE", "/api/languages/it-IT", None),
        ("GET", "/api/languages/it-IT/translations", None),
        ("PUT", "/api/languages/it-IT/translations", {"translations": {"a": "b"}, "version": 0}),
        ("POST", "/api/languages/it-IT/translations/import", {"translations": {"a": "b"}}),
        ("GET", "/api/languages/it-IT/translations/export", None),
    ]:
        answer = stack.request(method, path, token=other, json_body=body)
        assert answer.status == 404, (method, path, answer.body)
    assert _bundle(stack, other, "it-IT")["language"] == "en-US"  # not one of globex's languages
    assert stack.request("GET", "/api/languages/it-IT", token=token).json()["name"] == "It"


def test_permissions_guard_every_route_but_the_bundle(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    member = make_user(stack, fresh_tenant.id, fresh_tenant.code, [])["token"]
    for method, path, body in [
        ("GET", "/api/languages", None),
        ("POST", "/api/languages", {"code": "es-ES", "name": "Es"}),
        ("GET", "/api/languages/zh-CN", None),
        ("PUT", "/api/languages/zh-CN", {"name": "X", "version": 0}),
        ("DELETE", "/api/languages/zh-CN", None),
        ("GET", "/api/languages/zh-CN/translations", None),
        ("PUT", "/api/languages/zh-CN/translations", {"translations": {}, "version": 0}),
        ("POST", "/api/languages/zh-CN/translations/import", {"translations": {}}),
        ("GET", "/api/languages/zh-CN/translations/export", None),
    ]:
        answer = stack.request(method, path, token=member, json_body=body)
        assert answer.status == 403, (method, path, answer.body)
    assert _bundle(stack, member, "zh-CN")["language"] == "zh-CN"
    assert stack.request("GET", "/api/i18n/zh-CN").status == 401
