"""What a client of the running local stack sees over real HTTP."""

from __future__ import annotations

import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import requests

from local_stack.stack import DEMO_ADMIN_EMAIL, DEMO_TENANT

pytestmark = pytest.mark.e2e

PROBLEM_JSON = "application/problem+json"
TIMEOUT = 30
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def _media_type(response: requests.Response) -> str:
    return response.headers.get("Content-Type", "").split(";")[0].strip()


def test_demo_admin_signs_in_and_reads_who_they_are(local_stack_url: str, demo_password: str) -> None:
    # Given the demo admin's tokens, from signing in over HTTP
    signed_in = requests.post(
        f"{local_stack_url}/api/auth/login",
        json={"tenant": DEMO_TENANT, "email": DEMO_ADMIN_EMAIL, "password": demo_password},
        timeout=TIMEOUT,
    )
    assert signed_in.status_code == 200
    token = signed_in.json()["access_token"]

    # When they ask who they are
    me = requests.get(f"{local_stack_url}/api/auth/me", headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT)

    # Then the API names them and their organisation
    assert me.status_code == 200
    body = me.json()
    assert body["user"]["email"] == DEMO_ADMIN_EMAIL
    assert body["tenant"]["code"] == DEMO_TENANT
    assert body["tenant"]["status"] == "active"


def test_openapi_lists_every_route_with_its_permission(local_stack_url: str) -> None:
    # Given the running API

    # When a client fetches the merged OpenAPI document
    answer = requests.get(f"{local_stack_url}/openapi.json", timeout=TIMEOUT)

    # Then it is JSON, lists the routes of every function and names each operation's permission
    assert answer.status_code == 200
    assert _media_type(answer) == "application/json"
    spec: dict[str, Any] = answer.json()
    assert spec["openapi"].startswith("3.")
    assert {
        "/api/auth/login",
        "/api/auth/refresh",
        "/api/auth/logout",
        "/api/auth/me",
        "/.well-known/jwks.json",
        "/api/tenants",
        "/api/tenants/{tenant_id}",
        "/api/tenants/{tenant_id}/suspend",
        "/api/tenants/{tenant_id}/resume",
    } <= set(spec["paths"])
    operations = [
        (method, path, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]
    without_permission = [f"{m.upper()} {p}" for m, p, op in operations if not op.get("x-permission")]
    assert without_permission == []


def test_swagger_ui_renders_every_operation_of_the_openapi(local_stack_url: str, tmp_path: Path) -> None:
    # Given the running API and its merged OpenAPI document
    spec: dict[str, Any] = requests.get(f"{local_stack_url}/openapi.json", timeout=TIMEOUT).json()
    operations = {(method, path) for path, item in spec["paths"].items() for method in item if method in HTTP_METHODS}

    # When a real browser opens /docs and Swagger UI has fetched and rendered the document, in a window tall
    # enough for the whole list: from 150 tags + operations Swagger UI renders only the rows in the viewport
    tags = {
        tag
        for item in spec["paths"].values()
        for method, op in item.items()
        if method in HTTP_METHODS
        for tag in op.get("tags", ["default"])
    }
    dom = _rendered_dom(f"{local_stack_url}/docs", tmp_path, height=ROW_PIXELS * (len(operations) + len(tags)) + 2_000)

    # Then the page lists every operation (with a known route among them), and no rendering error
    assert "Unable to render this definition" not in dom
    listed = _listed_operations(dom)
    assert ("get", "/api/users") in listed
    assert listed == operations


ROW_PIXELS = 80  # an operation row of Swagger UI is about 60 px high at 1280 px wide, a tag heading more


def _rendered_dom(url: str, profile: Path, height: int) -> str:
    """The DOM of the page in headless Chromium (a window `height` px tall), once it has loaded and gone idle."""
    chromium = shutil.which(os.environ.get("CHROMIUM", "chromium"))
    if chromium is None:  # a failure, not a skip: CI (.ci/run) installs it
        pytest.fail("Chromium is needed for the Swagger UI test: `apt-get install chromium` (or set CHROMIUM)")
    browser = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",  # as root (CI), Chromium starts only without its sandbox
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--no-first-run",
            f"--user-data-dir={profile}",
            f"--window-size=1280,{height}",
            # Virtual time stops while requests are pending and skips idle time, so the budget is not a race
            "--virtual-time-budget=10000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert browser.returncode == 0, browser.stderr[-5_000:]
    return browser.stdout


class _Operations(HTMLParser):
    """The (method, path) of every operation block Swagger UI rendered."""

    def __init__(self) -> None:
        super().__init__()
        self.method = ""
        self.found: set[tuple[str, str]] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        if "opblock" in classes:
            kinds = [name.removeprefix("opblock-") for name in classes]  # opblock-get, opblock-deprecated...
            self.method = next((kind for kind in kinds if kind in HTTP_METHODS), "")
        if "opblock-summary-path" in classes and attributes.get("data-path"):
            self.found.add((self.method, str(attributes["data-path"])))


def _listed_operations(dom: str) -> set[tuple[str, str]]:
    parser = _Operations()
    parser.feed(dom)
    return parser.found


def test_request_without_token_is_refused_as_problem(local_stack_url: str) -> None:
    # Given a client that did not sign in

    # When it asks who it is
    answer = requests.get(f"{local_stack_url}/api/auth/me", timeout=TIMEOUT)

    # Then it gets a 401 problem
    assert answer.status_code == 401
    assert _media_type(answer) == PROBLEM_JSON
    assert answer.json()["status"] == 401


def test_unknown_route_is_a_not_found_problem(local_stack_url: str) -> None:
    # Given the running API

    # When a client calls a route that does not exist
    answer = requests.get(f"{local_stack_url}/api/no-such-route", timeout=TIMEOUT)

    # Then it gets a 404 problem
    assert answer.status_code == 404
    assert _media_type(answer) == PROBLEM_JSON
    assert answer.json()["status"] == 404


def test_cors_preflight_of_login_allows_the_origin(local_stack_url: str) -> None:
    # Given a browser app on another origin

    # When it sends the CORS preflight of a sign-in
    answer = requests.options(
        f"{local_stack_url}/api/auth/login",
        headers={
            "Origin": "http://localhost:5173",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Content-Type",
        },
        timeout=TIMEOUT,
    )

    # Then the answer allows the call
    assert answer.status_code < 300
    assert answer.headers.get("Access-Control-Allow-Origin") in {"*", "http://localhost:5173"}
    assert "POST" in answer.headers.get("Access-Control-Allow-Methods", "")


def test_welcome_mail_of_demo_tenant_was_sent(local_stack_url: str) -> None:
    # Given the demo tenant, onboarded when the stack started

    # When a developer looks at the local outbox
    answer = requests.get(f"{local_stack_url}/_local/mail", timeout=TIMEOUT)

    # Then the welcome mail to acme's admin is there (besides the test send of the demo's mail log)
    assert answer.status_code == 200
    welcome = [
        m for m in answer.json() if DEMO_ADMIN_EMAIL in m["to"] and m["kind"] == "welcome_email" and not m["test"]
    ]
    assert len(welcome) == 1
    assert "acme" in welcome[0]["body"]


def test_operator_lists_tenants_and_sees_the_demo_tenant(local_stack_url: str, operator_token: str) -> None:
    # Given the platform operator, signed in
    headers = {"Authorization": f"Bearer {operator_token}"}

    # When they list the tenants (every page)
    codes: list[str] = []
    query: dict[str, str] = {"limit": "200"}
    while True:
        answer = requests.get(f"{local_stack_url}/api/tenants", headers=headers, params=query, timeout=TIMEOUT)
        assert answer.status_code == 200
        page = answer.json()
        codes += [tenant["code"] for tenant in page["items"]]
        if not page.get("next_cursor"):
            break
        query["cursor"] = page["next_cursor"]

    # Then the demo tenant is among them
    assert DEMO_TENANT in codes
