"""Custom fields: definitions per entity type, values validated on the entity's own writes, shown and filtered
on its lists, described by a JSON Schema that really validates the bodies (checked with jsonschema) and a
Formily schema; removing a field leaves stored entities intact."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from riveredge import keys
from riveredge.db.models import OperationLogEntry, User, map_values
from riveredge.scope import Scope, use_scope

from local_stack.stack import LocalStack
from tests.integration.accounts import make_user, seed_role
from tests.integration.conftest import TenantFixture
from tests.support import claims_of, dynamodb_calls

NOT_A_USER = "01ARZ3NDEKTSV4RRFFQ69G5FAV"


def _post(stack: LocalStack, token: str, path: str, body: Any) -> dict[str, Any]:
    reply = stack.request("POST", path, token=token, json_body=body)
    assert reply.status == 201, (path, reply.body)
    return dict(reply.json())


def _fields(reply: Any) -> set[str]:
    return {e["field"] for e in reply.json().get("errors", [])}


def _skills(stack: LocalStack, token: str) -> None:
    _post(stack, token, "/api/dictionaries", {"code": "skill", "name": "Skill"})
    for code, label, zh in [("python", "Python", "Python 语言"), ("sql", "SQL", "SQL"), ("excel", "Excel", "表格")]:
        _post(
            stack, token, "/api/dictionaries/skill/items", {"code": code, "label": label, "translations": {"zh-CN": zh}}
        )


def _define_account_fields(stack: LocalStack, token: str) -> None:
    _skills(stack, token)
    for body in [
        {
            "entity": "user",
            "key": "employee_no",
            "label": "Employee number",
            "type": "text",
            "required": True,
            "validation": {"pattern": "^E[0-9]{3,6}$", "max_length": 7},
            "order": 1,
        },
        {
            "entity": "user",
            "key": "grade",
            "label": "Grade",
            "type": "number",
            "validation": {"minimum": 1, "maximum": 9},
        },
        {"entity": "user", "key": "rate", "label": "Day rate", "type": "decimal", "validation": {"scale": 2}},
        {"entity": "user", "key": "hired_on", "label": "Hired on", "type": "date"},
        {"entity": "user", "key": "remote", "label": "Remote", "type": "boolean", "default": False},
        {"entity": "user", "key": "skills", "label": "Skills", "type": "multi_select", "dictionary": "skill"},
        {"entity": "user", "key": "mentor", "label": "Mentor", "type": "user"},
        {"entity": "user", "key": "last_review", "label": "Last review", "type": "datetime"},
    ]:
        _post(stack, token, "/api/custom-fields", body)


def _account(stack: LocalStack, token: str, custom: dict[str, Any] | None, **more: Any) -> Any:
    body = {"email": f"p{abs(hash(str(custom))) % 10**8}@x.example", "name": "Pat", "password": "Sup3rsecret!x"}
    return stack.request("POST", "/api/users", token=token, json_body={**body, **more, "custom_fields": custom})


def test_account_writes_obey_the_custom_fields_and_show_their_values(
    stack: LocalStack, fresh_tenant: TenantFixture
) -> None:
    token = fresh_tenant.admin_token
    _define_account_fields(stack, token)
    good = {
        "employee_no": "E1001",
        "grade": 4,
        "rate": 812.5,
        "hired_on": "2025-03-01",
        "skills": ["python", "sql"],
        "mentor": claims_of(fresh_tenant.admin_token)["sub"],
        "last_review": "2026-06-01T09:30:00+08:00",
    }
    created = _account(stack, token, good)
    assert created.status == 201, created.body
    shown = created.json()["custom_fields"]
    # the default filled in, the time kept in UTC
    assert shown == {**good, "remote": False, "last_review": "2026-06-01T01:30:00Z"}
    user_id = created.json()["id"]
    assert stack.request("GET", f"/api/users/{user_id}", token=token).json()["custom_fields"] == shown

    # Each wrong value is named by its field; nothing is stored
    wrong = {
        "employee_no": "X1",
        "grade": 12,
        "rate": 1.234,
        "hired_on": "2025-02-30",
        "skills": ["python", "cobol"],
        "mentor": NOT_A_USER,
        "last_review": "yesterday",
        "nickname": "Pat",
    }
    refused = _account(stack, token, wrong, email="wrong@x.example")
    assert refused.status == 422, refused.body
    assert _fields(refused) == {f"custom_fields.{k}" for k in wrong}
    messages = {e["field"]: e["message"] for e in refused.json()["errors"]}
    assert messages["custom_fields.grade"] == "must be at most 9"
    assert messages["custom_fields.rate"] == "must have at most 2 decimal places"
    assert messages["custom_fields.mentor"] == "no such user"
    assert messages["custom_fields.nickname"] == "no such custom field"
    missing = _account(stack, token, {"grade": 2}, email="missing@x.example")
    assert missing.status == 422 and _fields(missing) == {"custom_fields.employee_no"}
    typed = _account(stack, token, {"employee_no": 1001}, email="typed@x.example")
    assert typed.status == 422 and typed.json()["errors"][0]["message"] == "must be text"
    reply = stack.request("GET", "/api/users", token=token, query="limit=200")
    assert reply.status == 200, reply.body
    listed = reply.json()["items"]
    assert not {u["email"] for u in listed} & {"wrong@x.example", "missing@x.example", "typed@x.example"}

    # An update merges: the keys given replace, null clears, the rest stays
    current = stack.request("GET", f"/api/users/{user_id}", token=token).json()
    update = {"name": "Pat", "status": "active", "version": current["version"]}
    changed = stack.request(
        "PUT", f"/api/users/{user_id}", token=token, json_body={**update, "custom_fields": {"grade": 5, "rate": None}}
    )
    assert changed.status == 200, changed.body
    assert changed.json()["custom_fields"]["grade"] == 5 and "rate" not in changed.json()["custom_fields"]
    assert changed.json()["custom_fields"]["employee_no"] == "E1001"
    cleared = stack.request(
        "PUT",
        f"/api/users/{user_id}",
        token=token,
        json_body={**update, "version": changed.json()["version"], "custom_fields": {"employee_no": None}},
    )
    assert cleared.status == 422 and _fields(cleared) == {"custom_fields.employee_no"}
    # An update that names no custom field leaves them as they are (and needs none of them)
    renamed = stack.request(
        "PUT",
        f"/api/users/{user_id}",
        token=token,
        json_body={**update, "name": "Pat B", "version": changed.json()["version"]},
    )
    assert renamed.status == 200 and renamed.json()["custom_fields"] == changed.json()["custom_fields"]
    with use_scope(Scope(fresh_tenant.id)) as scope:
        entries = [e for e in OperationLogEntry.query(keys.collection(scope, "OPLOG")) if e.resource_id == user_id]
        assert any(
            e.action == "user.edit" and (e.before or {}).get("custom_fields", {}).get("grade") == 4 for e in entries
        ), [e.before for e in entries]


def test_lists_filter_by_custom_fields(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    token = fresh_tenant.admin_token
    _define_account_fields(stack, token)
    ids = {}
    for number, grade, skills in [
        ("E101", 3, ["python"]),
        ("E102", 3, ["sql", "excel"]),
        ("E103", 7, ["python", "sql"]),
    ]:
        reply = _account(
            stack, token, {"employee_no": number, "grade": grade, "skills": skills}, email=f"{number}@x.example"
        )
        assert reply.status == 201, reply.body
        ids[number] = reply.json()["id"]

    def listed(query: str) -> set[str]:
        reply = stack.request("GET", "/api/users", token=token, query=query)
        assert reply.status == 200, reply.body
        return {u["custom_fields"].get("employee_no") for u in reply.json()["items"]} - {None}

    assert listed("custom_field=grade:3") == {"E101", "E102"}
    assert listed("custom_field=skills:python") == {"E101", "E103"}
    assert listed("custom_field=grade:3&custom_field=skills:python") == {"E101"}
    assert listed("custom_field=employee_no:E103") == {"E103"}
    for query, problem in [
        ("custom_field=height:3", "no such custom field: height"),
        ("custom_field=grade:three", "'three' is not a value of grade (number)"),
        ("custom_field=grade", "'grade' is not <key>:<value>"),
    ]:
        refused = stack.request("GET", "/api/users", token=token, query=query)
        assert refused.status == 422, refused.body
        assert refused.json()["errors"] == [{"field": "custom_field", "message": problem}]


def test_the_schema_endpoint_describes_what_the_writes_accept(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    token = fresh_tenant.admin_token
    _define_account_fields(stack, token)
    reply = stack.request("GET", "/api/custom-fields/user/schema", token=token, headers={"Accept-Language": "zh-CN"})
    assert reply.status == 200, reply.body
    schema = reply.json()["json_schema"]
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["properties"]["skills"]["anyOf"][0]["items"]["enum"] == ["excel", "python", "sql"]

    # Bodies the schema accepts, the API stores; bodies it refuses, the API refuses (for the same fields)
    samples: list[dict[str, Any]] = [
        {"employee_no": "E2001"},
        {"employee_no": "E2002", "grade": 9, "hired_on": "2024-12-31", "skills": [], "remote": True},
        {
            "employee_no": "E2003",
            "last_review": "2026-01-01T00:00:00Z",
            "mentor": claims_of(fresh_tenant.admin_token)["sub"],
        },
        {"employee_no": "E2004", "grade": None, "rate": 10.25},
        {"employee_no": "2005"},
        {"grade": 3},
        {"employee_no": "E2006", "grade": 0},
        {"employee_no": "E2007", "hired_on": "31/12/2024"},
        {"employee_no": "E2008", "skills": ["python", "python"]},
        {"employee_no": "E2009", "remote": "yes"},
        {"employee_no": "E2010", "unknown": 1},
        {"employee_no": "E2011", "last_review": "2026-01-01 10:00"},
    ]
    for n, custom in enumerate(samples):
        valid = validator.is_valid(custom)
        reply = _account(stack, token, custom, email=f"s{n}@x.example")
        assert reply.status == (201 if valid else 422), (custom, valid, reply.body)
        if not valid:  # and the API names only fields of the body, or the required one it lacks
            assert _fields(reply) <= {f"custom_fields.{k}" for k in [*custom, "employee_no"]}, reply.body

    formily = stack.request("GET", "/api/custom-fields/user/schema", token=token, query="lang=zh-CN").json()
    properties = formily["formily"]["properties"]
    assert list(properties)[-1] == "employee_no"  # by order (1), then key; the others have order 0
    assert properties["employee_no"]["x-component"] == "Input" and properties["employee_no"]["required"] is True
    assert properties["employee_no"]["x-decorator"] == "FormItem"
    assert properties["employee_no"]["x-validator"] == [{"maxLength": 7, "pattern": "^E[0-9]{3,6}$"}]
    assert properties["skills"]["x-component"] == "Select"
    assert properties["skills"]["x-component-props"]["mode"] == "multiple"
    assert {"label": "表格", "value": "excel"} in properties["skills"]["enum"]
    assert properties["hired_on"]["x-component"] == "DatePicker"
    assert properties["last_review"]["x-component-props"]["showTime"] is True
    assert properties["remote"]["x-component"] == "Switch" and properties["remote"]["default"] is False
    assert properties["rate"]["x-component-props"]["precision"] == 2
    assert properties["mentor"]["x-data"] == {"source": "/api/users"}
    # An entity type that takes no custom fields
    assert stack.request("GET", "/api/custom-fields/invoice/schema", token=token).status == 404


def test_departments_take_custom_fields_too(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    token = fresh_tenant.admin_token
    body = {"entity": "department", "key": "cost_centre", "label": "Cost centre", "type": "text", "required": True}
    _post(stack, token, "/api/custom-fields", body)
    _post(
        stack,
        token,
        "/api/custom-fields",
        {"entity": "department", "key": "budget", "label": "Budget", "type": "decimal"},
    )
    refused = stack.request("POST", "/api/departments", token=token, json_body={"name": "Ops", "code": "OPS"})
    assert refused.status == 422 and _fields(refused) == {"custom_fields.cost_centre"}
    ops = _post(
        stack, token, "/api/departments", {"name": "Ops", "code": "OPS", "custom_fields": {"cost_centre": "CC-1"}}
    )
    _post(stack, token, "/api/departments", {"name": "Lab", "code": "LAB", "custom_fields": {"cost_centre": "CC-2"}})
    assert ops["custom_fields"] == {"cost_centre": "CC-1"}
    updated = stack.request(
        "PUT",
        f"/api/departments/{ops['id']}",
        token=token,
        json_body={"version": ops["version"], "custom_fields": {"budget": "lots"}},
    )
    assert updated.status == 422 and updated.json()["errors"] == [
        {"field": "custom_fields.budget", "message": "must be a number"}
    ]
    updated = stack.request(
        "PUT",
        f"/api/departments/{ops['id']}",
        token=token,
        json_body={"version": ops["version"], "custom_fields": {"budget": 1200.5}},
    )
    assert updated.status == 200 and updated.json()["custom_fields"] == {"cost_centre": "CC-1", "budget": 1200.5}
    tree = stack.request("GET", "/api/departments", token=token).json()["items"]
    assert {d["code"]: d["custom_fields"] for d in tree}["OPS"] == {"cost_centre": "CC-1", "budget": 1200.5}
    found = stack.request("GET", "/api/departments", token=token, query="custom_field=cost_centre:CC-2").json()["items"]
    assert [(d["code"], d["children"]) for d in found] == [("LAB", [])]


def test_removing_a_field_leaves_stored_entities_intact(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    token = fresh_tenant.admin_token
    _post(stack, token, "/api/custom-fields", {"entity": "user", "key": "badge", "label": "Badge", "type": "text"})
    field = _post(
        stack, token, "/api/custom-fields", {"entity": "user", "key": "floor", "label": "Floor", "type": "number"}
    )
    user = _account(stack, token, {"badge": "B-7", "floor": 3}, email="keep@x.example").json()
    deleted = stack.request(
        "DELETE", f"/api/custom-fields/{field['id']}", token=token, query=f"version={field['version']}"
    )
    assert deleted.status == 204, deleted.body
    # The account reads, lists and updates as before; the removed field is no longer shown nor accepted
    read = stack.request("GET", f"/api/users/{user['id']}", token=token)
    assert read.status == 200 and read.json()["custom_fields"] == {"badge": "B-7"}
    with use_scope(Scope(fresh_tenant.id)) as scope:
        stored = User.get(*keys.user(scope, user["id"]))
        assert map_values(stored.custom_fields) == {"badge": "B-7", "floor": 3}  # nothing was rewritten
    assert stack.request("GET", "/api/users", token=token, query="custom_field=floor:3").status == 422
    # A namesake of another type does not show the old value
    _post(stack, token, "/api/custom-fields", {"entity": "user", "key": "floor", "label": "Floor", "type": "boolean"})
    assert stack.request("GET", f"/api/users/{user['id']}", token=token).json()["custom_fields"] == {"badge": "B-7"}
    changed = stack.request(
        "PUT",
        f"/api/users/{user['id']}",
        token=token,
        json_body={
            "name": "Kept",
            "status": "active",
            "version": read.json()["version"],
            "custom_fields": {"badge": "B-8"},
        },
    )
    assert changed.status == 200, changed.body
    assert changed.json()["custom_fields"] == {"badge": "B-8"}
    # A switched-off field is hidden and refuses writes, its value kept for when it is switched back on
    badge = stack.request("GET", "/api/custom-fields/user.badge", token=token).json()
    off = stack.request(
        "PUT", "/api/custom-fields/user.badge", token=token, json_body={"enabled": False, "version": badge["version"]}
    )
    assert off.status == 200 and off.json()["enabled"] is False
    assert stack.request("GET", f"/api/users/{user['id']}", token=token).json()["custom_fields"] == {}
    refused = _account(stack, token, {"badge": "B-9"}, email="off@x.example")
    assert refused.status == 422 and refused.json()["errors"][0]["message"] == "this custom field is switched off"
    stack.request(
        "PUT",
        "/api/custom-fields/user.badge",
        token=token,
        json_body={"enabled": True, "version": off.json()["version"]},
    )
    assert stack.request("GET", f"/api/users/{user['id']}", token=token).json()["custom_fields"] == {"badge": "B-8"}


def test_bad_definitions_name_the_setting_and_store_nothing(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    token = fresh_tenant.admin_token
    _skills(stack, token)
    base = {"entity": "user", "key": "thing", "label": "Thing"}
    for body, field in [
        ({**base, "entity": "invoice", "type": "text"}, "entity"),
        ({**base, "key": "Bad Key", "type": "text"}, "key"),
        ({**base, "type": "colour"}, "type"),
        ({**base, "type": "select"}, "dictionary"),
        ({**base, "type": "select", "dictionary": "nope"}, "dictionary"),
        ({**base, "type": "text", "dictionary": "skill"}, "dictionary"),
        ({**base, "type": "boolean", "validation": {"max_length": 3}}, "validation.max_length"),
        ({**base, "type": "text", "validation": {"min_length": 5, "max_length": 2}}, "validation.min_length"),
        ({**base, "type": "text", "validation": {"pattern": "(["}}, "validation.pattern"),
        ({**base, "type": "text", "validation": {"max_length": 5000}}, "validation.max_length"),
        ({**base, "type": "number", "validation": {"allowed": ["a"]}}, "validation.allowed"),
        ({**base, "type": "number", "default": "seven"}, "default"),
        ({**base, "type": "select", "dictionary": "skill", "default": "cobol"}, "default"),
    ]:
        refused = stack.request("POST", "/api/custom-fields", token=token, json_body=body)
        assert refused.status == 422, (body, refused.body)
        assert field in _fields(refused) or f"body.{field}" in _fields(refused), (body, refused.body)
    assert stack.request("GET", "/api/custom-fields", token=token).json()["items"] == []
    _post(stack, token, "/api/custom-fields", {**base, "type": "text"})
    again = stack.request("POST", "/api/custom-fields", token=token, json_body={**base, "type": "number"})
    assert again.status == 409
    field = stack.request("GET", "/api/custom-fields/user.thing", token=token).json()
    stale = stack.request("PUT", "/api/custom-fields/user.thing", token=token, json_body={"label": "X", "version": 99})
    assert stale.status == 412
    bad = stack.request(
        "PUT",
        "/api/custom-fields/user.thing",
        token=token,
        json_body={"validation": {"minimum": 1}, "version": field["version"]},
    )
    assert bad.status == 422 and _fields(bad) == {"validation.minimum"}
    assert stack.request("GET", "/api/custom-fields/user.thing", token=token).json() == field


def test_a_warm_write_reads_the_definitions_from_cache(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    token = fresh_tenant.admin_token
    _post(stack, token, "/api/custom-fields", {"entity": "user", "key": "badge", "label": "Badge", "type": "text"})
    assert _account(stack, token, {"badge": "B-1"}, email="warm1@x.example").status == 201  # the container loads them
    with dynamodb_calls("UsersFunction") as warm:
        assert _account(stack, token, {"badge": "B-2"}, email="warm2@x.example").status == 201
    with dynamodb_calls("UsersFunction") as none:
        assert _account(stack, token, None, email="warm3@x.example").status == 201
    # The definitions cost no call of their own: the one extra Query is the stamps', once per request
    assert warm == none, (warm, none)
    assert stack.request("GET", "/api/custom-fields/user/schema", token=token).status == 200
    with dynamodb_calls("CustomFieldsFunction") as schema:
        assert stack.request("GET", "/api/custom-fields/user/schema", token=token).status == 200
    assert schema == {"Query": 1}, schema


def test_another_tenants_custom_fields_answer_404(
    stack: LocalStack, fresh_tenant: TenantFixture, globex: TenantFixture
) -> None:
    token = fresh_tenant.admin_token
    field = _post(
        stack, token, "/api/custom-fields", {"entity": "user", "key": "secret_no", "label": "No", "type": "text"}
    )
    theirs = globex.admin_token
    for method, body in [("GET", None), ("PUT", {"label": "Mine", "version": 0}), ("DELETE", None)]:
        reply = stack.request(method, f"/api/custom-fields/{field['id']}", token=theirs, json_body=body)
        assert reply.status == 404, (method, reply.body)
    assert field["id"] not in {
        f["id"] for f in stack.request("GET", "/api/custom-fields", token=theirs).json()["items"]
    }
    assert (
        "secret_no"
        not in stack.request("GET", "/api/custom-fields/user/schema", token=theirs).json()["json_schema"]["properties"]
    )
    # Another tenant's account is not a user this tenant's field may point at
    _post(stack, token, "/api/custom-fields", {"entity": "user", "key": "buddy", "label": "Buddy", "type": "user"})
    refused = _account(stack, token, {"buddy": claims_of(globex.admin_token)["sub"]}, email="buddy@x.example")
    assert refused.status == 422 and refused.json()["errors"] == [
        {"field": "custom_fields.buddy", "message": "no such user"}
    ]
    assert stack.request("GET", f"/api/custom-fields/{field['id']}", token=token).json()["label"] == "No"


def test_permissions_guard_the_definitions_but_not_the_form_schema(
    stack: LocalStack, fresh_tenant: TenantFixture
) -> None:
    field = _post(
        stack,
        fresh_tenant.admin_token,
        "/api/custom-fields",
        {"entity": "user", "key": "badge", "label": "B", "type": "text"},
    )
    member = make_user(stack, fresh_tenant.id, fresh_tenant.code, [])["token"]
    for method, path, body in [
        ("GET", "/api/custom-fields", None),
        ("POST", "/api/custom-fields", {"entity": "user", "key": "x", "label": "X", "type": "text"}),
        ("GET", f"/api/custom-fields/{field['id']}", None),
        ("PUT", f"/api/custom-fields/{field['id']}", {"label": "Y", "version": 0}),
        ("DELETE", f"/api/custom-fields/{field['id']}", None),
    ]:
        assert stack.request(method, path, token=member, json_body=body).status == 403, (method, path)
    assert stack.request("GET", "/api/custom-fields/user/schema", token=member).status == 200
    viewer = make_user(stack, fresh_tenant.id, fresh_tenant.code, [seed_role(fresh_tenant.id, ["custom_field.view"])])
    assert stack.request("GET", "/api/custom-fields", token=viewer["token"]).status == 200
    assert stack.request("DELETE", f"/api/custom-fields/{field['id']}", token=viewer["token"]).status == 403
