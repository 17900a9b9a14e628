"""Message channels, message templates, the send routes' checks, isolation and permissions, and webhook and SMS
deliveries against a real HTTP server and moto's SNS."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from riveredge import integrations
from riveredge.messaging.channels import WEBHOOK_SECRET_ID
from riveredge.scope import Scope

from local_stack.stack import ACCOUNT_ID, REGION, LocalStack
from tests.integration.accounts import make_user, seed_role
from tests.integration.conftest import Account, TenantFixture
from tests.integration.test_integrations import Remote
from tests.integration.test_messages import (
    FANOUT,
    configure,
    deliveries,
    delivery_event,
    department,
    drain,
    page_event,
    people,
    send,
    sent,
    stored,
)

SECRET = "a-signing-secret-of-sixteen+"


@pytest.fixture
def remote() -> Iterator[Remote]:
    server = Remote()
    yield server
    server.stop()


def _allow_loopback(stack: LocalStack, operator: Account, tenant_id: str) -> None:
    path = f"/api/tenants/{tenant_id}/outbound-allow-list"
    current = stack.request("GET", path, token=operator.token).json()
    body = {"hosts": ["127.0.0.1/32"], "version": current["version"]}
    assert stack.request("PUT", path, token=operator.token, json_body=body).status == 200


def _webhook(stack: LocalStack, operator: Account, tenant: TenantFixture, remote: Remote) -> dict[str, Any]:
    _allow_loopback(stack, operator, tenant.id)
    return configure(stack, tenant.admin_token, "webhook", {"config": {"url": f"{remote.url}/hook"}, "secret": SECRET})


def _verify(request: dict[str, Any], secret: str = SECRET) -> None:
    signed = f"{request['headers']['X-RiverEdge-Timestamp']}.".encode() + request["body"]
    expected = "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    assert request["headers"]["X-RiverEdge-Signature"] == expected


# -- channel configs ------------------------------------------------------------------------------------------
def test_every_channel_is_listed_with_its_default_until_configured(
    stack: LocalStack, fresh_tenant: TenantFixture
) -> None:
    token = fresh_tenant.admin_token
    listed = {c["channel"]: c for c in stack.request("GET", "/api/message-configs", token=token).json()["items"]}
    assert set(listed) == {"in_app", "email", "sms", "webhook"}
    assert listed["in_app"]["usable"] and listed["email"]["usable"]
    assert not listed["sms"]["usable"] and not listed["webhook"]["usable"]
    assert not any(c["configured"] for c in listed.values())
    assert stack.request("GET", "/api/message-configs/pager", token=token).status == 404


def test_a_webhook_config_checks_its_url_and_keeps_its_secret_write_only(
    stack: LocalStack, fresh_tenant: TenantFixture, operator: Account, remote: Remote
) -> None:
    token = fresh_tenant.admin_token
    path = "/api/message-configs/webhook"
    # An address inside the network is refused, naming the field; so is a webhook without a secret
    for body, field in [
        ({"config": {"url": "http://169.254.169.254/latest"}, "secret": SECRET}, "config.url"),
        ({"config": {"url": "https://hooks.example.com/in"}}, "secret"),
        ({"config": {"url": "https://hooks.example.com/in", "extra": 1}, "secret": SECRET}, "config.extra"),
        ({"config": {"url": "https://hooks.example.com/in"}, "secret": "short"}, "secret"),
    ]:
        refused = stack.request("PUT", path, token=token, json_body={**body, "version": 0})
        assert refused.status == 422, refused.body
        assert [e["field"] for e in refused.json()["errors"]] == [field]
    assert stack.request("GET", path, token=token).json()["configured"] is False
    # A good one is stored; its secret is never answered, and lives in Secrets Manager
    saved = _webhook(stack, operator, fresh_tenant, remote)
    assert saved["usable"] and saved["secret"] == "******" and saved["version"] == 1
    for reply in (stack.request("GET", path, token=token), stack.request("GET", "/api/message-configs", token=token)):
        assert SECRET.encode() not in reply.body
    name = integrations.secret_name(Scope(fresh_tenant.id), WEBHOOK_SECRET_ID)
    assert boto3.client("secretsmanager").get_secret_value(SecretId=name)["SecretString"] == SECRET
    # Changing it without a secret keeps the secret; a stale version is a 412 and changes nothing
    renamed = configure(stack, token, "webhook", {"config": {"url": f"{remote.url}/hook"}, "name": "Ops bridge"})
    assert renamed["name"] == "Ops bridge" and renamed["secret"] == "******"
    stale = stack.request(
        "PUT", path, token=token, json_body={"config": {"url": "https://x.example.com"}, "version": 1}
    )
    assert stale.status == 412
    # Deleting it puts the default back and schedules its secret's deletion
    gone = stack.request("DELETE", path, token=token, headers={"If-Match": str(renamed["version"])})
    assert gone.status == 204
    assert stack.request("GET", path, token=token).json()["configured"] is False
    assert "DeletedDate" in boto3.client("secretsmanager").describe_secret(SecretId=name)


def test_an_sms_config_is_checked_and_its_test_lands_in_sns(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    token = fresh_tenant.admin_token
    for config, field in [
        ({"sender_id": "12345"}, "config.sender_id"),
        ({"sender_id": "Far-too-long-id"}, "config.sender_id"),
        ({"origination_number": "555-0100"}, "config.origination_number"),
        ({"sms_type": "Bulk"}, "config.sms_type"),
    ]:
        refused = stack.request(
            "PUT", "/api/message-configs/sms", token=token, json_body={"config": config, "version": 0}
        )
        assert refused.status == 422 and refused.json()["errors"][0]["field"] == field, refused.body
    # A secret is for webhooks only
    secret = {"config": {}, "secret": SECRET, "version": 0}
    assert stack.request("PUT", "/api/message-configs/sms", token=token, json_body=secret).status == 422
    configure(stack, token, "sms", {"config": {"sender_id": "Acme", "sms_type": "Transactional"}})
    # The test needs an E.164 number, and reaches SNS
    assert stack.request("POST", "/api/message-configs/sms/test", token=token, json_body={}).status == 422
    answer = stack.request("POST", "/api/message-configs/sms/test", token=token, json_body={"to": "+86 138 0013 8000"})
    assert answer.status == 200 and answer.json()["ok"] is True, answer.body
    from moto.sns.models import sns_backends

    number, text = sns_backends[ACCOUNT_ID][REGION].sms_messages[answer.json()["reference"]]
    assert number == "+8613800138000" and "test" in text


def test_an_email_sender_must_be_a_verified_identity_and_its_test_mail_comes_from_it(
    stack: LocalStack, fresh_tenant: TenantFixture
) -> None:
    token = fresh_tenant.admin_token
    path = "/api/message-configs/email"
    unverified = {"config": {"from_email": "news@unverified.example"}, "version": 0}
    refused = stack.request("PUT", path, token=token, json_body=unverified)
    assert refused.status == 422 and refused.json()["errors"][0]["field"] == "config.from_email", refused.body
    header = {"config": {"from_email": "news@mail.example", "from_name": "News\r\nBcc: x@y.example"}, "version": 0}
    assert stack.request("PUT", path, token=token, json_body=header).status == 422
    # Once the address is an SES identity of the account, it is the tenant's sender
    stack.verify_email_identity("mail.example")
    configure(stack, token, "email", {"config": {"from_email": "news@mail.example", "from_name": "Acme News"}})
    answer = stack.request("POST", f"{path}/test", token=token, json_body={"to": "someone@people.example"})
    assert answer.status == 200 and answer.json()["ok"] is True, answer.body
    mail = [m for m in stack.sent_mail() if "someone@people.example" in m["to"]]
    assert len(mail) == 1 and "news@mail.example" in mail[0]["from"]
    assert stack.request("POST", f"{path}/test", token=token, json_body={"to": "not an address"}).status == 422
    # Someone who configures channels but may not send mail tests on their own address only
    tenant = fresh_tenant
    configurer = make_user(stack, tenant.id, tenant.code, [seed_role(tenant.id, ["message.config"])])
    other = stack.request("POST", f"{path}/test", token=configurer["token"], json_body={"to": "x@people.example"})
    assert other.status == 403
    own = stack.request("POST", f"{path}/test", token=configurer["token"], json_body={})
    assert own.status == 200 and configurer["email"] in own.json()["detail"], own.body


def test_the_in_app_and_webhook_tests_reach_their_receivers(
    stack: LocalStack, fresh_tenant: TenantFixture, operator: Account, remote: Remote
) -> None:
    token = fresh_tenant.admin_token
    # A webhook that is not configured cannot be tested
    assert stack.request("POST", "/api/message-configs/webhook/test", token=token, json_body={}).status == 409
    inbox = stack.request("POST", "/api/message-configs/in_app/test", token=token, json_body={})
    assert inbox.status == 200 and inbox.json()["ok"] is True
    assert [m["message_id"] for m in stored("inbox_message", message_id=inbox.json()["reference"])]
    _webhook(stack, operator, fresh_tenant, remote)
    answer = stack.request("POST", "/api/message-configs/webhook/test", token=token, json_body={})
    assert answer.status == 200 and answer.json()["ok"] is True and answer.json()["status"] == 200, answer.body
    request = remote.seen[-1]
    _verify(request)
    assert request["headers"]["X-RiverEdge-Event"] == "message.test"
    remote.answers["/hook"] = (503, {}, b"{}")
    failing = stack.request("POST", "/api/message-configs/webhook/test", token=token, json_body={})
    assert failing.json()["ok"] is False and failing.json()["status"] == 503


# -- templates --------------------------------------------------------------------------------------------------
TEMPLATE = {
    "name": "Leave approved",
    "code": "leave.approved",
    "type": "approval",
    "variables": [
        {"key": "days", "label": "Days", "required": True, "example": 3},
        {"key": "note", "example": "Enjoy <it>"},
    ],
    "bodies": {
        "in_app": {"title": "Leave approved for {{recipient.name}}", "content": '{{days}} days. {{note|default:""}}'},
        "email": {"subject": "Your leave: {{days}} days", "html": "<p>{{note}}</p>", "text": "{{note}}"},
        "sms": {"text": "Leave approved: {{days}} days"},
        "webhook": {"format": "json", "payload": {"text": "{{recipient.name}}: {{note}}", "days": "{{days}}"}},
    },
}


def _template(stack: LocalStack, token: str, **changes: Any) -> dict[str, Any]:
    reply = stack.request("POST", "/api/message-templates", token=token, json_body={**TEMPLATE, **changes})
    assert reply.status == 201, reply.body
    return dict(reply.json())


def test_a_template_is_checked_when_saved_naming_the_body_and_where(
    stack: LocalStack, fresh_tenant: TenantFixture
) -> None:
    token = fresh_tenant.admin_token
    broken_email = {**TEMPLATE["bodies"], "email": {"subject": "Hi", "html": "<p>\n  {{#if days}}open", "text": ""}}
    unknown = {**TEMPLATE["bodies"], "sms": {"text": "{{salary}}"}}
    bad_filter = {"in_app": {"title": "{{days|shout}}"}}
    ssti = {"in_app": {"title": "{{ ''.__class__ }}"}}
    for bodies, field, words in [
        (broken_email, "bodies.email.html", "line 2"),
        (unknown, "bodies.sms.text", "unknown variable 'salary'"),
        (bad_filter, "bodies.in_app.title", "shout"),
        (ssti, "bodies.in_app.title", "line 1"),
    ]:
        reply = stack.request("POST", "/api/message-templates", token=token, json_body={**TEMPLATE, "bodies": bodies})
        assert reply.status == 422, reply.body
        problem = reply.json()["errors"][0]
        assert problem["field"] == field and words in problem["message"], problem
    for body, field in [
        ({**TEMPLATE, "bodies": {}}, "bodies"),
        ({**TEMPLATE, "variables": [{"key": "recipient.name"}]}, "variables.0.key"),
        ({**TEMPLATE, "bodies": {"webhook": {"format": "text"}}}, "bodies.webhook"),
    ]:
        reply = stack.request("POST", "/api/message-templates", token=token, json_body=body)
        assert reply.status == 422 and reply.json()["errors"][0]["field"] == field, reply.body
    assert stack.request("GET", "/api/message-templates", token=token).json()["items"] == []


def test_a_template_is_created_changed_previewed_and_deleted(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    token = fresh_tenant.admin_token
    made = _template(stack, token)
    assert made["channels"] == ["in_app", "email", "sms", "webhook"] and made["version"] == 1
    # Its code is the organisation's: a second template cannot take it
    assert stack.request("POST", "/api/message-templates", token=token, json_body=TEMPLATE).status == 409
    path = f"/api/message-templates/{made['id']}"
    # Preview: examples merged with what the caller sends, the HTML escaped, the JSON still JSON
    preview = stack.request(
        "POST",
        f"{path}/preview",
        token=token,
        json_body={"variables": {"note": 'a "quote" & <b>'}, "recipient": {"name": "Li"}},
    )
    assert preview.status == 200, preview.body
    shown = preview.json()
    assert shown["in_app"] == {"title": "Leave approved for Li", "content": '3 days. a "quote" & <b>'}
    assert shown["email"]["html"] == "<p>a &#34;quote&#34; &amp; &lt;b&gt;</p>"
    assert json.loads(shown["webhook"]["body"]) == {"text": 'Li: a "quote" & <b>', "days": "3"}
    assert shown["sms"] == {"text": "Leave approved: 3 days"}
    missing = stack.request("POST", f"{path}/preview", token=token, json_body={"variables": {"days": ""}})
    assert missing.status == 422 and missing.json()["errors"][0]["field"] == "variables.days"
    # Changing it needs the version read; a stale one changes nothing
    changed = stack.request("PUT", path, token=token, json_body={"name": "Leave OK", "code": "leave.ok", "version": 1})
    assert changed.status == 200 and changed.json()["version"] == 2, changed.body
    assert stack.request("PUT", path, token=token, json_body={"name": "Again", "version": 1}).status == 412
    # Its old code is free again
    again = _template(stack, token)
    assert again["code"] == "leave.approved"
    listed = stack.request("GET", "/api/message-templates?limit=1", token=token).json()
    assert len(listed["items"]) == 1 and listed["next_cursor"]
    # Deleted: gone, and its code free
    assert stack.request("DELETE", path, token=token, headers={"If-Match": "2"}).status == 204
    assert stack.request("GET", path, token=token).status == 404
    _template(stack, token, code="leave.ok")


def test_a_templated_push_renders_each_persons_own_message(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    token = fresh_tenant.admin_token
    made = _template(stack, token)
    ann, bo = people(fresh_tenant.id, 2)
    body = {
        "template_id": made["id"],
        "variables": {"days": 5},
        "recipients": {"user_ids": [ann, bo]},
        "channels": ["in_app"],
    }
    # A required variable left out is refused, naming it; so is a channel the template has no body for
    refused = send(stack, token, {**body, "variables": {}}, status=422)
    assert refused["errors"][0]["field"] == "variables.days"
    bare = _template(stack, token, code="bare", bodies={"in_app": {"title": "Hi"}})
    refused = send(stack, token, {**body, "template_id": bare["id"], "variables": {}, "channels": ["sms"]}, status=422)
    assert refused["errors"][0]["field"] == "channels.0"
    pushed = send(stack, token, body)
    assert pushed["template_id"] == made["id"] and pushed["type"] == "approval"
    sent(stack, token, pushed["id"])
    titles = {
        m["user_id"]: (m["title"], m["content"], m["type"]) for m in stored("inbox_message", send_id=pushed["id"])
    }
    assert titles == {
        ann: ("Leave approved for Person 0", "5 days. ", "approval"),
        bo: ("Leave approved for Person 1", "5 days. ", "approval"),
    }
    # Later edits of the template do not change what the send says
    path = f"/api/message-templates/{made['id']}"
    stack.request("PUT", path, token=token, json_body={"bodies": {"in_app": {"title": "Changed"}}, "version": 1})
    result = stack.request("GET", f"/api/messages/{pushed['id']}", token=token).json()
    assert result["template_version"] == 1


# -- the send route's checks ------------------------------------------------------------------------------------
def test_a_bad_push_is_refused_naming_the_problem_and_nothing_is_stored(
    stack: LocalStack, fresh_tenant: TenantFixture
) -> None:
    token = fresh_tenant.admin_token
    someone = people(fresh_tenant.id, 1)
    ids = [f"01M8{n:022d}" for n in range(1001)]
    soon = (datetime.now(UTC) + timedelta(seconds=10)).isoformat()
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    base = {"title": "T", "recipients": {"user_ids": someone}}
    unknown = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
    for body, field in [
        ({"title": "T", "recipients": {"user_ids": ids}}, "recipients.user_ids"),
        ({"title": "T", "recipients": {"user_ids": ["not-an-id"]}}, "recipients.user_ids.0"),
        ({"title": "T", "recipients": {}}, "recipients"),
        ({"title": "T", "recipients": {"role_ids": [unknown]}}, "recipients.role_ids.0"),
        ({"title": "T", "recipients": {"department_ids": [unknown]}}, "recipients.department_ids.0"),
        ({**base, "send_at": past}, "send_at"),
        ({**base, "send_at": soon}, "send_at"),
        ({**base, "send_at": "2030-01-01T00:00:00"}, "send_at"),
        ({**base, "channels": ["sms"]}, "channels.0"),
        ({**base, "channels": ["in_app", "in_app"]}, "channels"),
        ({**base, "channels": ["fax"]}, "channels.0"),
        ({**base, "template_id": unknown}, "body"),
        ({"template_id": unknown, "recipients": {"user_ids": someone}}, "template_id"),
        ({"recipients": {"user_ids": someone}}, "body"),
        ({**base, "variables": {"a": 1}}, "body"),
        ({**base, "tenant_id": unknown}, "tenant_id"),
        ({**base, "link": "javascript:alert(1)"}, "link"),
        ({**base, "title": "x" * 201}, "title"),
    ]:
        reply = stack.request("POST", "/api/messages/send", token=token, json_body=body)
        assert reply.status == 422, (field, reply.body)
        assert reply.json()["errors"][0]["field"] == field, (field, reply.json())
    # A hundred thousand ids is refused before it is read
    huge = {"title": "T", "recipients": {"user_ids": [f"01M8{n:022d}" for n in range(100_000)]}}
    assert stack.request("POST", "/api/messages/send", token=token, json_body=huge).status == 413
    # And nothing was stored
    assert stack.request("GET", "/api/messages", token=token).json()["items"] == []


def test_sends_are_listed_newest_first_with_filters_and_a_cursor(
    stack: LocalStack, fresh_tenant: TenantFixture
) -> None:
    token = fresh_tenant.admin_token
    someone = people(fresh_tenant.id, 1)
    first = send(
        stack, token, {"title": "One", "type": "system", "recipients": {"user_ids": someone}, "channels": ["in_app"]}
    )
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    second = send(stack, token, {"title": "Two", "recipients": {"user_ids": someone}, "send_at": later})
    stack.settle()
    listed = stack.request("GET", "/api/messages", token=token).json()["items"]
    assert [s["id"] for s in listed] == [second["id"], first["id"]]
    assert listed[1]["counts"]["in_app"]["delivered"] == 1 and listed[1]["counts"]["email"]["queued"] == 0
    by_status = stack.request("GET", "/api/messages?status=scheduled", token=token).json()["items"]
    assert [s["id"] for s in by_status] == [second["id"]]
    by_type = stack.request("GET", "/api/messages?type=system", token=token).json()["items"]
    assert [s["id"] for s in by_type] == [first["id"]]
    future = (datetime.now(UTC) + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert stack.request("GET", f"/api/messages?created_after={future}", token=token).json()["items"] == []
    page = stack.request("GET", "/api/messages?limit=1", token=token).json()
    rest = stack.request("GET", f"/api/messages?limit=1&cursor={page['next_cursor']}", token=token).json()
    assert [s["id"] for s in page["items"] + rest["items"]] == [second["id"], first["id"]]
    for query in ("cursor=forged.sig", "status=lost", "created_after=yesterday", "limit=500"):
        assert stack.request("GET", f"/api/messages?{query}", token=token).status in (400, 422), query
    # A cursor of one filter does not open another
    other = stack.request("GET", f"/api/messages?limit=1&status=queued&cursor={page['next_cursor']}", token=token)
    assert other.status == 400


# -- webhook deliveries ------------------------------------------------------------------------------------------
def test_webhook_deliveries_are_signed_and_made_once(
    stack: LocalStack, fresh_tenant: TenantFixture, operator: Account, remote: Remote
) -> None:
    # Given a webhook channel pointing at a real HTTP server
    token = fresh_tenant.admin_token
    _webhook(stack, operator, fresh_tenant, remote)
    ann, bo = people(fresh_tenant.id, 2)
    made = send(
        stack,
        token,
        {"title": "Hook", "content": "Body", "recipients": {"user_ids": [ann, bo]}, "channels": ["webhook"]},
    )
    result = sent(stack, token, made["id"])
    # Then each recipient's delivery is one signed POST naming them, and the send counts both delivered
    assert result["counts"]["webhook"] == {"queued": 0, "delivered": 2, "failed": 0, "read": 0}
    posts = [r for r in remote.seen if r["path"] == "/hook"]
    assert len(posts) == 2
    for post in posts:
        _verify(post)
        assert post["headers"]["X-RiverEdge-Event"] == "message.delivery"
    bodies = {json.loads(p["body"])["recipient"]["id"]: json.loads(p["body"]) for p in posts}
    assert set(bodies) == {ann, bo} and {b["title"] for b in bodies.values()} == {"Hook"}
    assert len({p["headers"]["X-RiverEdge-Delivery"] for p in posts}) == 2
    # When the delivery message comes again (the queue delivers at least once, a page re-queues it)
    keys_ = sorted(f"{u}#webhook" for u in (ann, bo))
    stack.invoke(FANOUT, delivery_event(fresh_tenant.id, {"send_id": made["id"], "deliveries": keys_}))
    stack.settle()
    # Then nothing is posted again
    assert len([r for r in remote.seen if r["path"] == "/hook"]) == 2
    assert {d["status"] for d in deliveries(stack, token, made["id"])} == {"delivered"}


def test_a_webhook_that_refuses_is_a_failed_delivery_with_its_status(
    stack: LocalStack, fresh_tenant: TenantFixture, operator: Account, remote: Remote
) -> None:
    token = fresh_tenant.admin_token
    _webhook(stack, operator, fresh_tenant, remote)
    remote.answers["/hook"] = (410, {}, b"{}")
    made = send(
        stack, token, {"title": "Gone", "recipients": {"user_ids": people(fresh_tenant.id, 1)}, "channels": ["webhook"]}
    )
    assert sent(stack, token, made["id"])["counts"]["webhook"]["failed"] == 1
    (record,) = deliveries(stack, token, made["id"])
    assert record["status"] == "failed" and "410" in str(record["error"]) and record["attempts"] == 1


# -- isolation and permissions -----------------------------------------------------------------------------------
def test_another_tenants_sends_and_templates_answer_404(
    stack: LocalStack, fresh_tenant: TenantFixture, globex: TenantFixture
) -> None:
    token = fresh_tenant.admin_token
    template = _template(stack, token)
    made = send(
        stack, token, {"title": "Mine", "recipients": {"user_ids": people(fresh_tenant.id, 1)}, "channels": ["in_app"]}
    )
    configure(stack, token, "sms", {"config": {"sender_id": "Mine"}})
    sent(stack, token, made["id"])
    for method, path, body in [
        ("GET", f"/api/messages/{made['id']}", None),
        ("GET", f"/api/messages/{made['id']}/deliveries", None),
        ("POST", f"/api/messages/{made['id']}/cancel", None),
        ("GET", f"/api/message-templates/{template['id']}", None),
        ("PUT", f"/api/message-templates/{template['id']}", {"name": "Stolen", "version": 1}),
        ("DELETE", f"/api/message-templates/{template['id']}", None),
        ("POST", f"/api/message-templates/{template['id']}/preview", {}),
    ]:
        answer = stack.request(method, path, token=globex.admin_token, json_body=body)
        assert answer.status == 404, (method, path, answer.body)
    # A template of another tenant cannot be sent with either
    refused = send(
        stack, globex.admin_token, {"template_id": template["id"], "recipients": {"everyone": True}}, status=422
    )
    assert refused["errors"][0]["field"] == "template_id"
    # Channel configs are each tenant's own: globex sees its default, not acme's SMS sender
    assert stack.request("GET", "/api/message-configs/sms", token=globex.admin_token).json()["configured"] is False
    assert made["id"] not in {
        s["id"] for s in stack.request("GET", "/api/messages", token=globex.admin_token).json()["items"]
    }
    assert (
        stack.request("GET", f"/api/message-templates/{template['id']}", token=token).json()["name"] == "Leave approved"
    )


ROUTES: list[tuple[str, str, Any]] = [
    ("GET", "/api/message-configs", None),
    ("GET", "/api/message-configs/sms", None),
    ("PUT", "/api/message-configs/sms", {"config": {}, "version": 0}),
    ("DELETE", "/api/message-configs/sms", None),
    ("POST", "/api/message-configs/in_app/test", {}),
    ("GET", "/api/message-templates", None),
    ("POST", "/api/message-templates", TEMPLATE),
    ("GET", "/api/message-templates/01ARZ3NDEKTSV4RRFFQ69G5FAV", None),
    ("PUT", "/api/message-templates/01ARZ3NDEKTSV4RRFFQ69G5FAV", {"name": "X", "version": 1}),
    ("DELETE", "/api/message-templates/01ARZ3NDEKTSV4RRFFQ69G5FAV", None),
    ("POST", "/api/message-templates/01ARZ3NDEKTSV4RRFFQ69G5FAV/preview", {}),
    ("POST", "/api/messages/send", {"title": "T", "recipients": {"everyone": True}}),
    ("GET", "/api/messages", None),
    ("GET", "/api/messages/01ARZ3NDEKTSV4RRFFQ69G5FAV", None),
    ("GET", "/api/messages/01ARZ3NDEKTSV4RRFFQ69G5FAV/deliveries", None),
    ("POST", "/api/messages/01ARZ3NDEKTSV4RRFFQ69G5FAV/cancel", None),
]
READS = {(m, p) for m, p, _ in ROUTES if m == "GET" or p.endswith("/preview")}


def test_every_message_route_needs_its_permission(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    # Given someone with no message permission, and someone who may only look
    tenant = fresh_tenant
    nobody = make_user(stack, tenant.id, tenant.code, [seed_role(tenant.id, ["user.view"])])["token"]
    viewer = make_user(stack, tenant.id, tenant.code, [seed_role(tenant.id, ["message.view"])])["token"]
    for method, path, body in ROUTES:
        # Then the first is refused everywhere, the second everywhere but the reads
        assert stack.request(method, path, token=nobody, json_body=body).status == 403, (method, path)
        answer = stack.request(method, path, token=viewer, json_body=body)
        if (method, path) in READS:
            assert answer.status not in (401, 403), (method, path)
        else:
            assert answer.status == 403, (method, path)
    assert stack.request("GET", "/api/messages", token=None).status == 401
    assert stack.request("GET", "/api/messages", token=tenant.admin_token).json()["items"] == []


def test_the_fanout_cannot_touch_another_tenants_send(
    stack: LocalStack, fresh_tenant: TenantFixture, globex: TenantFixture
) -> None:
    # Given a send of this tenant waiting for later
    token = fresh_tenant.admin_token
    someone = people(fresh_tenant.id, 1)
    later = (datetime.now(UTC) + timedelta(hours=3)).isoformat()
    made = send(
        stack, token, {"title": "Mine", "recipients": {"user_ids": someone}, "send_at": later, "channels": ["in_app"]}
    )
    stack.settle()
    drain(stack)
    # When events naming another tenant carry its id: a page, a delivery, a firing
    stack.invoke(FANOUT, page_event(globex.id, {"send_id": made["id"], "page": 0}))
    deliveries_ = {"send_id": made["id"], "deliveries": [f"{someone[0]}#email"]}
    stack.invoke(FANOUT, delivery_event(globex.id, deliveries_))
    firing = {
        "tenant_id": globex.id,
        "schedule_arn": "arn:x",
        "scheduled_time": "2030-01-01T00:00:00Z",
        "payload": {"send_id": made["id"]},
    }
    stack.invoke(FANOUT, firing)
    stack.settle()
    # Then each is refused for the other tenant (it has no such send), to the dead-letter queue with the reason
    reasons = [d["reason"] for d in drain(stack)]
    assert len(reasons) == 3 and all("has no send" in str(r) for r in reasons), reasons
    # And this tenant's send is untouched
    assert sent(stack, token, made["id"])["status"] == "scheduled"
    assert stored("message_delivery", send_id=made["id"]) == []
    # An event naming no tenant, or an unknown one, is refused the same way
    stack.invoke(FANOUT, page_event("01ARZ3NDEKTSV4RRFFQ69G5FAV", {"send_id": made["id"], "page": 0}))
    assert "unknown tenant" in str(drain(stack)[0]["reason"])


def test_a_department_push_only_names_the_tenants_departments(
    stack: LocalStack, fresh_tenant: TenantFixture, globex: TenantFixture
) -> None:
    theirs = department(stack, globex.admin_token)
    body = {"title": "T", "recipients": {"department_ids": [theirs["id"]]}}
    refused = send(stack, fresh_tenant.admin_token, body, status=422)
    assert refused["errors"][0]["field"] == "recipients.department_ids.0"
