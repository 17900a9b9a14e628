"""Contract recipes of the email-template routes: global variables and templates (the metadata is read-only)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from tests.integration.test_route_contracts import Call, World

PATH = "/api/email-templates/global-variables"
TEMPLATES = "/api/email-templates"


def _body() -> dict[str, Any]:
    return {"key": f"v_{uuid.uuid4().hex[:10]}", "label": "Variable", "value": "one"}


def _template() -> dict[str, Any]:
    """A template of an own code (a fresh one each time: one template per code and language)."""
    return {
        "code": f"ct_{uuid.uuid4().hex[:10]}",
        "language": "en-US",
        "name": "Contract",
        "subject": "Hello {{who}}",
        "html_body": "<p>Hello {{who}}</p>",
        "variables": [{"key": "who", "label": "Who", "example": "you"}],
    }


def _override() -> dict[str, Any]:
    """An override of a system type, in a language of its own (so that each recipe can make one)."""
    return {
        "code": "welcome_email",
        "language": f"en-x{uuid.uuid4().hex[:6]}",
        "subject": "Welcome to {{app_name}}",
        "html_body": "<p>{{login_url}}</p>",
    }


def creating(world: World) -> dict[tuple[str, str], Callable[[], Call]]:
    def test_send() -> Call:
        made = world.post(TEMPLATES, _template())
        return Call(
            "POST",
            f"{TEMPLATES}/{made['id']}/test",
            world.token,
            {"variables": {}},
            variant={"variables": {"who": "b"}},
        )

    def default_test() -> Call:
        return Call(
            "POST",
            f"{TEMPLATES}/metadata/verification_code_register/test",
            world.token,
            {"language": "en-US"},
            variant={"language": "zh-CN"},
        )

    return {
        ("POST", PATH): lambda: Call("POST", PATH, world.token, _body(), variant={"value": "two"}),
        ("POST", TEMPLATES): lambda: Call("POST", TEMPLATES, world.token, _template()),
        ("POST", f"{TEMPLATES}/{{template_id}}/test"): test_send,
        ("POST", f"{TEMPLATES}/metadata/{{code}}/test"): default_test,
    }


def versioned(world: World) -> dict[tuple[str, str], Callable[[], Call]]:
    def variable(method: str) -> Callable[[], Call]:
        def make() -> Call:
            made = world.post(PATH, _body())
            path = f"{PATH}/{made['key']}"
            body = {"value": "changed", "version": made["version"]} if method == "PUT" else None

            def read() -> Any:
                listed = world.get(PATH)
                return next((v for v in listed["items"] if v["key"] == made["key"]), None)

            return Call(method, path, world.token, body, made["version"], read)

        return make

    def template(method: str, action: str = "") -> Callable[[], Call]:
        def make() -> Call:
            made = world.post(TEMPLATES, _override() if action == "reset" else _template())
            path = f"{TEMPLATES}/{made['id']}"
            version = made["version"]
            if action == "rollback":  # a second version to roll back from
                changed = world.stack.request(
                    "PUT", path, token=world.token, json_body={"subject": "Hi {{who}}", "version": version}
                )
                assert changed.status == 200, changed.body
                version = changed.json()["version"]
            body = (
                {"to_version": 1}
                if action == "rollback"
                else {"name": "Renamed", "version": version}
                if method == "PUT"
                else None
            )
            return Call(
                method, f"{path}/{action}" if action else path, world.token, body, version, lambda: world.get(path)
            )

        return make

    return {
        **{(m, f"{PATH}/{{key}}"): variable(m) for m in ("PUT", "DELETE")},
        ("PUT", f"{TEMPLATES}/{{template_id}}"): template("PUT"),
        ("DELETE", f"{TEMPLATES}/{{template_id}}"): template("DELETE"),
        ("POST", f"{TEMPLATES}/{{template_id}}/rollback"): template("POST", "rollback"),
        ("POST", f"{TEMPLATES}/{{template_id}}/reset"): template("POST", "reset"),
    }
