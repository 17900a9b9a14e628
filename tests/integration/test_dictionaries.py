"""Data dictionaries and system parameters: types and items, cascading and translated lists served from a
per-container cache, typed parameters with schemas, batch updates and import / export, all per tenant."""

from __future__ import annotations

from typing import Any

from riveredge import config_cache, keys, parameters
from riveredge.db.models import OperationLogEntry
from riveredge.scope import Scope, use_scope

from local_stack.stack import LocalStack
from tests.integration.accounts import make_user, seed_role
from tests.integration.conftest import TenantFixture
from tests.support import dynamodb_calls


def _post(stack: LocalStack, token: str, path: str, body: Any) -> dict[str, Any]:
    reply = stack.request("POST", path, token=token, json_body=body)
    assert reply.status == 201, (path, reply.body)
    return dict(reply.json())


def _items(stack: LocalStack, token: str, type_code: str, query: str = "", **headers: str) -> list[dict[str, Any]]:
    reply = stack.request("GET", f"/api/dictionaries/{type_code}/items", token=token, query=query, headers=headers)
    assert reply.status == 200, reply.body
    return list(reply.json()["items"])


def _fields(reply: Any) -> set[str]:
    return {e["field"] for e in reply.json().get("errors", [])}


def _region(stack: LocalStack, token: str) -> None:
    _post(stack, token, "/api/dictionaries", {"code": "region", "name": "Region"})
    for code, label, zh, parent in [
        ("east", "East", "华东", None),
        ("shanghai", "Shanghai", "上海", "east"),
        ("north", "North", "华北", None),
    ]:
        body = {"code": code, "label": label, "translations": {"zh-CN": zh}, "parent": parent}
        _post(stack, token, "/api/dictionaries/region/items", body)


def test_system_dictionaries_ship_with_every_tenant_and_cannot_be_changed(
    stack: LocalStack, fresh_tenant: TenantFixture
) -> None:
    token = fresh_tenant.admin_token
    listed = stack.request("GET", "/api/dictionaries", token=token).json()["items"]
    system = {d["code"] for d in listed if d["system"]}
    assert {"user_status", "gender", "yes_no", "enabled_status"} <= system
    assert [i["label"] for i in _items(stack, token, "gender", "lang=zh-CN")] == ["男", "女", "未知"]
    english = _items(stack, token, "gender", **{"Accept-Language": "en-US,en;q=0.8"})
    assert [i["label"] for i in english] == ["Male", "Female", "Not stated"]
    for method, path, body in [
        ("PUT", "/api/dictionaries/gender", {"name": "Sex", "version": 0}),
        ("DELETE", "/api/dictionaries/gender", None),
        ("POST", "/api/dictionaries/gender/items", {"code": "other", "label": "Other"}),
        ("DELETE", "/api/dictionaries/gender/items/male", None),
        ("POST", "/api/dictionaries", {"code": "gender", "name": "Mine"}),
    ]:
        refused = stack.request(method, path, token=token, json_body=body)
        assert refused.status == 409, (method, path, refused.body)
    assert len(_items(stack, token, "gender")) == 3


def test_a_dictionary_with_cascading_translated_items(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    token = fresh_tenant.admin_token
    _region(stack, token)
    # A form reads the top level, then the items under what was picked, in the caller's language
    assert [i["code"] for i in _items(stack, token, "region", "parent=")] == ["east", "north"]
    under = _items(stack, token, "region", "parent=east&lang=zh-CN")
    assert [(i["code"], i["label"], i["value"]) for i in under] == [("shanghai", "上海", "shanghai")]
    # A disabled item leaves the form's list but stays in the editor's
    item = next(i for i in _items(stack, token, "region") if i["code"] == "north")
    changed = stack.request(
        "PUT",
        "/api/dictionaries/region/items/north",
        token=token,
        json_body={"enabled": False, "version": item["version"]},
    )
    assert changed.status == 200 and changed.json()["enabled"] is False
    assert "north" not in {i["code"] for i in _items(stack, token, "region")}
    assert "north" in {i["code"] for i in _items(stack, token, "region", "include_disabled=true")}
    # A parent that does not exist, or one that would make a cycle, names the field
    for body in ({"code": "x", "label": "X", "parent": "nowhere"},):
        bad = stack.request("POST", "/api/dictionaries/region/items", token=token, json_body=body)
        assert bad.status == 422 and _fields(bad) == {"parent"}, bad.body
    east = next(i for i in _items(stack, token, "region") if i["code"] == "east")
    cycle = stack.request(
        "PUT",
        "/api/dictionaries/region/items/east",
        token=token,
        json_body={"parent": "shanghai", "version": east["version"]},
    )
    assert cycle.status == 422 and _fields(cycle) == {"parent"}
    # An item with items under it, and a type with items, are not deleted
    assert stack.request("DELETE", "/api/dictionaries/region/items/east", token=token).status == 409
    assert stack.request("DELETE", "/api/dictionaries/region", token=token).status == 409
    for code in ("shanghai", "east", "north"):
        assert stack.request("DELETE", f"/api/dictionaries/region/items/{code}", token=token).status == 204
    assert stack.request("DELETE", "/api/dictionaries/region", token=token).status == 204
    assert stack.request("GET", "/api/dictionaries/region/items", token=token).status == 404
    # And every change is in the operation log
    with use_scope(Scope(fresh_tenant.id)) as scope:
        actions = [e.action for e in OperationLogEntry.query(keys.oplog(scope, "").pk) if e.resource.startswith("dict")]
    assert actions.count("dictionary.item.create") == 3 and actions[-1] == "dictionary.delete"


def test_bad_dictionary_input_names_the_field_and_stores_nothing(
    stack: LocalStack, fresh_tenant: TenantFixture
) -> None:
    token = fresh_tenant.admin_token
    for body, field in [
        ({"code": "Bad Code", "name": "X"}, "code"),
        ({"code": "ok", "name": ""}, "name"),
    ]:
        refused = stack.request("POST", "/api/dictionaries", token=token, json_body=body)
        assert refused.status == 422 and _fields(refused) == {field}, refused.body
    _post(stack, token, "/api/dictionaries", {"code": "colour", "name": "Colour"})
    bad = stack.request(
        "POST",
        "/api/dictionaries/colour/items",
        token=token,
        json_body={"code": "red", "label": "Red", "translations": {"zh-CN": 5}},
    )
    assert bad.status == 422 and _fields(bad) == {"translations.zh-CN"}, bad.body
    unknown = stack.request("POST", "/api/dictionaries/nope/items", token=token, json_body={"code": "a", "label": "A"})
    assert unknown.status == 404
    assert _items(stack, token, "colour") == []


def test_a_warm_items_read_costs_one_dynamodb_call_and_a_change_is_seen_at_once(
    stack: LocalStack, fresh_tenant: TenantFixture
) -> None:
    token = fresh_tenant.admin_token
    _region(stack, token)
    _items(stack, token, "region")  # the container loads it
    # When a form reads the items again (many items, several reads), each request costs one Query: the stamps
    for _ in range(3):
        with dynamodb_calls("DictionariesFunction") as calls:
            assert len(_items(stack, token, "region")) == 3
        assert calls == {"Query": 1}, calls
    # And a change is served by the very next read
    _post(stack, token, "/api/dictionaries/region/items", {"code": "west", "label": "West"})
    assert "west" in {i["code"] for i in _items(stack, token, "region")}


METADATA_URL = "http://169.254.169.254/latest/meta-data/schema.json"


def test_parameters_are_typed_masked_and_batch_updated_all_or_nothing(
    stack: LocalStack, fresh_tenant: TenantFixture
) -> None:
    token = fresh_tenant.admin_token
    schema = {"type": "object", "properties": {"limit": {"type": "integer", "minimum": 1}}, "required": ["limit"]}
    _post(stack, token, "/api/parameters", {"key": "upload.max_mb", "type": "number", "value": 20})
    _post(
        stack, token, "/api/parameters", {"key": "limits", "type": "json", "value": {"limit": 5}, "json_schema": schema}
    )
    _post(stack, token, "/api/parameters", {"key": "erp.token", "type": "string", "value": "s3cret", "secret": True})
    _post(stack, token, "/api/parameters", {"key": "home", "type": "string", "value": "east", "editable": False})
    # Values that do not match their type or schema name the field
    for body, field in [
        ({"key": "a", "type": "number", "value": "20"}, "value"),
        ({"key": "b", "type": "boolean", "value": 1}, "value"),
        ({"key": "c", "type": "json", "value": {"limit": 0}, "json_schema": schema}, "value"),
        ({"key": "d", "type": "json", "value": {}, "json_schema": {"type": "nonsense"}}, "json_schema"),
        # a reference to a URL would make the validator fetch it (the instance metadata service, say): refused
        ({"key": "f", "type": "json", "value": {}, "json_schema": {"$ref": METADATA_URL}}, "json_schema"),
        ({"key": "e", "type": "colour", "value": 1}, "type"),
    ]:
        refused = stack.request("POST", "/api/parameters", token=token, json_body=body)
        assert refused.status == 422 and _fields(refused) == {field}, (body, refused.body)
    # A secret is never read back
    listed = {p["key"]: p for p in stack.request("GET", "/api/parameters", token=token).json()["items"]}
    assert listed["erp.token"]["value"] == "******" and listed["upload.max_mb"]["value"] == 20
    assert stack.request("GET", "/api/parameters/erp.token", token=token).json()["value"] == "******"
    assert b"s3cret" not in stack.request("GET", "/api/parameters/export", token=token).body
    # A batch with one bad value saves nothing
    bad = stack.request(
        "POST",
        "/api/parameters/batch",
        token=token,
        json_body={"values": {"upload.max_mb": 99, "limits": {"limit": -1}}},
    )
    assert bad.status == 422 and _fields(bad) == {"values.limits"}, bad.body
    assert stack.request("GET", "/api/parameters/upload.max_mb", token=token).json()["value"] == 20
    # A good one saves every value in one go
    good = stack.request(
        "POST",
        "/api/parameters/batch",
        token=token,
        json_body={"values": {"upload.max_mb": 99, "limits": {"limit": 9}}},
    )
    assert good.status == 200, good.body
    assert [p["value"] for p in good.json()["items"]] == [99, {"limit": 9}]
    # A parameter that is not editable keeps its value
    home = stack.request("GET", "/api/parameters/home", token=token).json()
    fixed = stack.request(
        "PUT", "/api/parameters/home", token=token, json_body={"value": "west", "version": home["version"]}
    )
    assert fixed.status == 409
    assert (
        stack.request("POST", "/api/parameters/batch", token=token, json_body={"values": {"home": "west"}}).status
        == 422
    )
    # And the layer serves the values (secrets included, server side) from the cache
    with use_scope(Scope(fresh_tenant.id)) as scope:
        config_cache.forget()
        with config_cache.request():
            assert parameters.get(scope, "upload.max_mb") == 99
        with dynamodb_calls() as calls, config_cache.request():
            for _ in range(10):
                assert parameters.get(scope, "erp.token") == "s3cret"
            assert parameters.get(scope, "missing", "default") == "default"
        assert calls == {"Query": 1}, calls  # the stamps; the values came from the cache


def test_parameters_export_and_import_into_another_tenant(
    stack: LocalStack, fresh_tenant: TenantFixture, globex: TenantFixture
) -> None:
    source = fresh_tenant.admin_token
    _post(stack, source, "/api/parameters", {"key": "site.motto", "type": "string", "value": "Hello"})
    _post(stack, source, "/api/parameters", {"key": "api.key", "type": "string", "value": "k", "secret": True})
    document = stack.request("GET", "/api/parameters/export", token=source).json()
    assert document["format"] == "riveredge.parameters/1"
    # A new secret without its value cannot be imported: nothing is
    target = globex.admin_token
    refused = stack.request("POST", "/api/parameters/import", token=target, json_body=document)
    assert refused.status == 422 and _fields(refused) == {"parameters.0.api.key"}, refused.body
    assert stack.request("GET", "/api/parameters/site.motto", token=target).status == 404
    # Importing into the tenant it came from creates nothing and keeps the secret's value
    again = stack.request("POST", "/api/parameters/import", token=source, json_body=document)
    assert again.status == 200 and again.json() == {"created": 0, "updated": 0, "unchanged": 2}
    with use_scope(Scope(fresh_tenant.id)) as scope:
        assert parameters.get(scope, "api.key") == "k"
    # A changed document updates
    document["parameters"] = [p for p in document["parameters"] if p["key"] == "site.motto"]
    document["parameters"][0]["value"] = "Bonjour"
    changed = stack.request("POST", "/api/parameters/import", token=source, json_body=document)
    assert changed.json() == {"created": 0, "updated": 1, "unchanged": 0}
    imported = stack.request("POST", "/api/parameters/import", token=target, json_body=document)
    assert imported.json() == {"created": 1, "updated": 0, "unchanged": 0}
    assert stack.request("GET", "/api/parameters/site.motto", token=target).json()["value"] == "Bonjour"


def test_another_tenants_dictionaries_and_parameters_answer_404(
    stack: LocalStack, fresh_tenant: TenantFixture, globex: TenantFixture
) -> None:
    token = fresh_tenant.admin_token
    _region(stack, token)
    made = _post(stack, token, "/api/parameters", {"key": "only.mine", "type": "boolean", "value": True})
    other = globex.admin_token
    for method, path, body in [
        ("GET", "/api/dictionaries/region", None),
        ("GET", "/api/dictionaries/region/items", None),
        ("PUT", "/api/dictionaries/region", {"name": "Stolen", "version": 0}),
        ("DELETE", "/api/dictionaries/region", None),
        ("POST", "/api/dictionaries/region/items", {"code": "z", "label": "Z"}),
        ("PUT", "/api/dictionaries/region/items/east", {"label": "Stolen", "version": 0}),
        ("DELETE", "/api/dictionaries/region/items/east", None),
        ("GET", "/api/parameters/only.mine", None),
        ("PUT", "/api/parameters/only.mine", {"value": False, "version": made["version"]}),
        ("DELETE", "/api/parameters/only.mine", None),
    ]:
        answer = stack.request(method, path, token=other, json_body=body)
        assert answer.status == 404, (method, path, answer.body)
    assert (
        stack.request("POST", "/api/parameters/batch", token=other, json_body={"values": {"only.mine": False}}).status
        == 422
    )
    assert len(_items(stack, token, "region")) == 3
    assert stack.request("GET", "/api/parameters/only.mine", token=token).json()["value"] is True


def test_permissions_guard_every_route_but_the_items_every_form_reads(
    stack: LocalStack, fresh_tenant: TenantFixture
) -> None:
    _region(stack, fresh_tenant.admin_token)
    member = make_user(stack, fresh_tenant.id, fresh_tenant.code, [])["token"]
    for method, path, body in [
        ("GET", "/api/dictionaries", None),
        ("POST", "/api/dictionaries", {"code": "mine", "name": "Mine"}),
        ("PUT", "/api/dictionaries/region", {"name": "X", "version": 0}),
        ("DELETE", "/api/dictionaries/region", None),
        ("POST", "/api/dictionaries/region/items", {"code": "z", "label": "Z"}),
        ("GET", "/api/parameters", None),
        ("POST", "/api/parameters", {"key": "k", "type": "number", "value": 1}),
        ("POST", "/api/parameters/batch", {"values": {"k": 2}}),
        ("GET", "/api/parameters/export", None),
        ("POST", "/api/parameters/import", {"parameters": []}),
    ]:
        answer = stack.request(method, path, token=member, json_body=body)
        assert answer.status == 403, (method, path, answer.body)
    assert len(_items(stack, member, "region")) == 3  # a form needs no permission to read its list
    viewer = make_user(stack, fresh_tenant.id, fresh_tenant.code, [seed_role(fresh_tenant.id, ["dictionary.view"])])
    assert stack.request("GET", "/api/dictionaries", token=viewer["token"]).status == 200
    assert (
        stack.request("POST", "/api/dictionaries", token=viewer["token"], json_body={"code": "v", "name": "V"}).status
        == 403
    )
