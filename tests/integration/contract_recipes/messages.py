"""Contract recipes of the message routes: templates and sends (creating), channel configs and templates
(versioned)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from tests.integration.test_route_contracts import Call, World

TEMPLATES = "/api/message-templates"


def _template() -> dict[str, Any]:
    return {
        "name": "Notice",
        "code": f"notice-{uuid.uuid4().hex[:8]}",
        "bodies": {"in_app": {"title": "Hello {{recipient.name}}", "content": "{{text}}"}},
        "variables": [{"key": "text", "required": True}],
    }


def creating(world: World) -> dict[tuple[str, str], Callable[[], Call]]:
    def send() -> Call:
        body = {"title": "Notice", "recipients": {"user_ids": [world.person()["id"]]}, "channels": ["in_app"]}
        return Call("POST", "/api/messages/send", world.token, body, variant={"title": "Another notice"})

    return {
        ("POST", TEMPLATES): lambda: Call("POST", TEMPLATES, world.token, _template()),
        ("POST", "/api/messages/send"): send,
    }


def versioned(world: World) -> dict[tuple[str, str], Callable[[], Call]]:
    def config(method: str) -> Callable[[], Call]:
        def make() -> Call:
            path = "/api/message-configs/sms"
            current = world.get(path)
            sender = f"S{uuid.uuid4().hex[:8]}"
            reply = world.stack.request(
                "PUT",
                path,
                token=world.token,
                json_body={"config": {"sender_id": sender}, "version": current["version"]},
            )
            assert reply.status == 200, reply.body
            made = reply.json()
            body = {"config": {"sender_id": "Changed"}, "version": made["version"]} if method == "PUT" else None
            return Call(method, path, world.token, body, made["version"], lambda: world.get(path))

        return make

    def template(method: str) -> Callable[[], Call]:
        def make() -> Call:
            made = world.post(TEMPLATES, _template())
            path = f"{TEMPLATES}/{made['id']}"
            body = {"name": "Renamed", "version": made["version"]} if method == "PUT" else None

            def read() -> Any:
                reply = world.stack.request("GET", path, token=world.token)
                return reply.json() if reply.status == 200 else None

            return Call(method, path, world.token, body, made["version"], read)

        return make

    return {
        ("PUT", "/api/message-configs/{channel}"): config("PUT"),
        ("DELETE", "/api/message-configs/{channel}"): config("DELETE"),
        ("PUT", f"{TEMPLATES}/{{template_id}}"): template("PUT"),
        ("DELETE", f"{TEMPLATES}/{{template_id}}"): template("DELETE"),
    }
