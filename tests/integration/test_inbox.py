"""My messages: the caller's own inbox through the API (pages, filters, unread count, read, delete, isolation)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from riveredge import inbox, keys
from riveredge.db.changes import System, change
from riveredge.db.models import InboxMessage, InboxUnread
from riveredge.scope import Scope, use_scope
from ulid import ULID

from local_stack.stack import LocalStack
from tests.integration.accounts import make_user
from tests.integration.conftest import TenantFixture

T0 = datetime(2026, 1, 1, tzinfo=UTC)  # messages of a test are sent one second apart from here


# -- helpers --------------------------------------------------------------------------------
def _person(stack: LocalStack, tenant: TenantFixture) -> dict[str, Any]:
    """A fresh account of `tenant` with no role (my messages need none), signed in."""
    return {**make_user(stack, tenant.id, tenant.code, [], name="Mia Messages"), "tenant": tenant}


def _message_id(second: int) -> str:
    """A message id (ULID) of a message sent `second` seconds after T0."""
    return str(ULID.from_timestamp(T0.timestamp() + second))


def deliver(tenant_id: str, user_id: str, seconds: range | list[int], *, type: str = "notice") -> list[str]:
    """Put messages in a user's inbox as the fan-out does (riveredge.inbox.deliver_all, 40 a transaction)."""
    scope = Scope(tenant_id)
    ids = [_message_id(s) for s in seconds]
    with use_scope(scope):
        for start in range(0, len(ids), 40):
            with change(System(scope), "message.deliver") as c:
                items = [
                    InboxMessage.new(
                        scope,
                        user_id,
                        message_id,
                        type=type,
                        title=f"Title {message_id}",
                        content="Hello <b>there</b>",
                        send_id=None,
                        link="/tasks/1",
                    )
                    for message_id in ids[start : start + 40]
                ]
                inbox.deliver_all(c, items)
    return ids


def _get(stack: LocalStack, token: str, path: str) -> Any:
    reply = stack.request("GET", path, token=token)
    assert reply.status == 200, reply.body
    return reply.json()


def _unread(stack: LocalStack, person: dict[str, Any]) -> int:
    return int(_get(stack, person["token"], "/api/me/messages/unread-count")["unread"])


def _ids(stack: LocalStack, person: dict[str, Any], query: str = "") -> list[str]:
    return [m["id"] for m in _get(stack, person["token"], f"/api/me/messages?limit=200{query}")["items"]]


def _stored(tenant_id: str, user_id: str, message_id: str) -> InboxMessage | None:
    scope = Scope(tenant_id)
    with use_scope(scope):
        return InboxMessage.find(keys.inbox_message(scope, user_id, message_id))


@pytest.fixture
def person(stack: LocalStack, acme: TenantFixture) -> dict[str, Any]:
    return _person(stack, acme)


# -- listing --------------------------------------------------------------------------------
def test_the_list_pages_newest_first_with_a_cursor(stack: LocalStack, person: dict[str, Any]) -> None:
    # Given five messages sent one second apart
    ids = deliver(person["tenant"].id, person["id"], range(5))
    # When the caller pages through them two at a time
    seen: list[str] = []
    path = "/api/me/messages?limit=2"
    pages = 0
    while True:
        page = _get(stack, person["token"], path)
        pages += 1
        seen += [m["id"] for m in page["items"]]
        if not page.get("next_cursor"):
            break
        path = f"/api/me/messages?limit=2&cursor={page['next_cursor']}"
    # Then every message comes once, newest first, in three pages
    assert seen == list(reversed(ids))
    assert pages == 3


def test_a_message_answers_its_documented_shape(stack: LocalStack, person: dict[str, Any]) -> None:
    (message_id,) = deliver(person["tenant"].id, person["id"], [0], type="task")
    found = _get(stack, person["token"], f"/api/me/messages/{message_id}")
    assert found == {
        "id": message_id,
        "type": "task",
        "title": f"Title {message_id}",
        "content": "Hello <b>there</b>",
        "read": False,
        "read_at": None,
        "created_at": found["created_at"],
        "send_id": None,
        "link": "/tasks/1",
        "version": 1,
    }
    assert found["created_at"].endswith("Z")
    assert _get(stack, person["token"], "/api/me/messages")["items"] == [found]


def test_filters_by_read_state_type_and_time(stack: LocalStack, person: dict[str, Any]) -> None:
    # Given notices at 0..3 s, a task at 4 s, and the notices at 0 and 2 s read
    tenant_id = person["tenant"].id
    notices = deliver(tenant_id, person["id"], range(4))
    (task,) = deliver(tenant_id, person["id"], [4], type="task")
    for message_id in (notices[0], notices[2]):
        assert stack.request("POST", f"/api/me/messages/{message_id}/read", token=person["token"]).status == 200
    # Then each filter answers its messages, newest first
    assert _ids(stack, person, "&read=false") == [task, notices[3], notices[1]]
    assert _ids(stack, person, "&read=true") == [notices[2], notices[0]]
    assert _ids(stack, person, "&type=task") == [task]
    assert _ids(stack, person, "&type=notice&read=false") == [notices[3], notices[1]]
    since, until = "2026-01-01T00:00:01Z", "2026-01-01T00:00:03Z"
    assert _ids(stack, person, f"&since={since}&until={until}") == [notices[3], notices[2], notices[1]]
    assert _ids(stack, person, f"&since={since}&until={until}&read=false") == [notices[3], notices[1]]
    assert _ids(stack, person, "&until=2026-01-01T00:00:00.500Z") == [notices[0]]


def test_a_filtered_unread_list_pages_too(stack: LocalStack, person: dict[str, Any]) -> None:
    ids = deliver(person["tenant"].id, person["id"], range(3))
    first = _get(stack, person["token"], "/api/me/messages?read=false&limit=2")
    second = _get(stack, person["token"], f"/api/me/messages?read=false&limit=2&cursor={first['next_cursor']}")
    assert [m["id"] for m in first["items"] + second["items"]] == list(reversed(ids))
    assert "next_cursor" not in second or second["next_cursor"] is None


@pytest.mark.parametrize(
    "query",
    ["limit=0", "limit=201", "read=maybe", "since=yesterday", "type=Not%20a%20type", "cursor=forged.cursor"],
)
def test_bad_query_parameters_are_400(stack: LocalStack, person: dict[str, Any], query: str) -> None:
    reply = stack.request("GET", f"/api/me/messages?{query}", token=person["token"])
    assert reply.status == 400, reply.body
    assert reply.content_type == "application/problem+json"


def test_until_before_since_is_400_naming_until(stack: LocalStack, person: dict[str, Any]) -> None:
    reply = stack.request(
        "GET", "/api/me/messages?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z", token=person["token"]
    )
    assert reply.status == 400
    assert [e["field"] for e in reply.json()["errors"]] == ["until"]


def test_a_cursor_of_another_user_or_filter_is_refused(
    stack: LocalStack, acme: TenantFixture, person: dict[str, Any]
) -> None:
    # Given a cursor minted for one user's inbox
    deliver(person["tenant"].id, person["id"], range(3))
    cursor = _get(stack, person["token"], "/api/me/messages?limit=1")["next_cursor"]
    other = _person(stack, acme)
    # Then another user (same tenant) and another filter cannot use it: 400, never a read of the first inbox
    assert stack.request("GET", f"/api/me/messages?cursor={cursor}", token=other["token"]).status == 400
    assert stack.request("GET", f"/api/me/messages?read=false&cursor={cursor}", token=person["token"]).status == 400


def test_no_token_is_401(stack: LocalStack) -> None:
    for method, path in [
        ("GET", "/api/me/messages"),
        ("GET", "/api/me/messages/unread-count"),
        ("POST", "/api/me/messages/read-all"),
    ]:
        assert stack.request(method, path).status == 401


# -- the unread count -------------------------------------------------------------------------
def test_the_unread_count_follows_delivery_reading_and_deleting(stack: LocalStack, person: dict[str, Any]) -> None:
    # Given no message yet
    assert _unread(stack, person) == 0
    ids = deliver(person["tenant"].id, person["id"], range(4))
    assert _unread(stack, person) == 4
    # When one is read, then read again, and an unread one and a read one are deleted
    token = person["token"]
    assert stack.request("POST", f"/api/me/messages/{ids[0]}/read", token=token).status == 200
    assert stack.request("POST", f"/api/me/messages/{ids[0]}/read", token=token).status == 200
    assert _unread(stack, person) == 3
    assert stack.request("DELETE", f"/api/me/messages/{ids[1]}", token=token).status == 204
    assert stack.request("DELETE", f"/api/me/messages/{ids[0]}", token=token).status == 204
    # Then only the unread deletion counted
    assert _unread(stack, person) == 2


def test_the_unread_count_is_one_read_of_the_counter(stack: LocalStack, person: dict[str, Any]) -> None:
    from tests.support import dynamodb_calls

    deliver(person["tenant"].id, person["id"], range(3))
    with dynamodb_calls("InboxFunction") as counted:
        assert _unread(stack, person) == 3
    assert dict(counted) == {"GetItem": 1}


def test_concurrent_reads_of_one_message_count_it_once(stack: LocalStack, person: dict[str, Any]) -> None:
    # Given one unread message of two
    ids = deliver(person["tenant"].id, person["id"], range(2))
    statuses: list[int] = []

    def read() -> None:
        statuses.append(stack.request("POST", f"/api/me/messages/{ids[0]}/read", token=person["token"]).status)

    # When six requests mark it read at once
    threads = [threading.Thread(target=read) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then each answered, and the counter moved once
    assert set(statuses) <= {200, 409}, statuses
    assert 200 in statuses
    assert _unread(stack, person) == 1
    scope = Scope(person["tenant"].id)
    with use_scope(scope):
        counter = InboxUnread.find(keys.inbox_unread(scope, person["id"]))
    assert counter is not None
    assert int(counter.unread) == 1


# -- marking read -----------------------------------------------------------------------------
def test_marking_one_read_answers_it_read(stack: LocalStack, person: dict[str, Any]) -> None:
    (message_id,) = deliver(person["tenant"].id, person["id"], [0])
    reply = stack.request("POST", f"/api/me/messages/{message_id}/read", token=person["token"])
    assert reply.status == 200
    body = reply.json()
    assert body["read"] is True
    assert body["read_at"].endswith("Z")
    stored = _stored(person["tenant"].id, person["id"], message_id)
    assert stored is not None
    assert stored.read is True
    assert stored.gsi1pk is None  # out of the unread index


def test_marking_many_read_answers_each_outcome(stack: LocalStack, person: dict[str, Any]) -> None:
    # Given three messages, the first already read
    ids = deliver(person["tenant"].id, person["id"], range(3))
    stack.request("POST", f"/api/me/messages/{ids[0]}/read", token=person["token"])
    unknown = _message_id(99)
    # When the caller marks all three, one twice, and an unknown id
    reply = stack.request(
        "POST", "/api/me/messages/read", token=person["token"], json_body={"ids": [*ids, ids[1], unknown]}
    )
    # Then each id answers once with its outcome, and the count is what is left
    assert reply.status == 200, reply.body
    assert reply.json() == {
        "results": [
            {"id": ids[0], "status": "already_read", "error": None},
            {"id": ids[1], "status": "read", "error": None},
            {"id": ids[2], "status": "read", "error": None},
            {"id": unknown, "status": "not_found", "error": None},
        ],
        "unread": 0,
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"ids": []}, "ids"),
        ({"ids": [_message_id(i) for i in range(101)]}, "ids"),
        ({"ids": ["not-an-id"]}, "ids.0"),
        ({"ids": [_message_id(0)], "user_id": "someone"}, "user_id"),
    ],
)
def test_a_bad_list_of_ids_is_422_naming_the_field(
    stack: LocalStack, person: dict[str, Any], body: dict[str, Any], field: str
) -> None:
    (message_id,) = deliver(person["tenant"].id, person["id"], [0])
    for path in ("/api/me/messages/read", "/api/me/messages/delete"):
        reply = stack.request("POST", path, token=person["token"], json_body=body)
        assert reply.status == 422, reply.body
        assert field in [e["field"] for e in reply.json()["errors"]]
    # nothing changed
    stored = _stored(person["tenant"].id, person["id"], message_id)
    assert stored is not None
    assert stored.read is False


def test_read_all_marks_every_unread_message(stack: LocalStack, person: dict[str, Any]) -> None:
    # Given 230 unread messages (three transactions' worth) and one read already
    ids = deliver(person["tenant"].id, person["id"], range(231))
    stack.request("POST", f"/api/me/messages/{ids[0]}/read", token=person["token"])
    # When the caller marks all read
    reply = stack.request("POST", "/api/me/messages/read-all", token=person["token"])
    # Then 230 were marked and nothing is unread
    assert reply.status == 200, reply.body
    assert reply.json() == {"marked": 230, "unread": 0}
    assert _ids(stack, person, "&read=false") == []
    assert len(_ids(stack, person, "&read=true")) == 200  # one page's worth
    assert stack.request("POST", "/api/me/messages/read-all", token=person["token"]).json() == {
        "marked": 0,
        "unread": 0,
    }


# -- deleting ---------------------------------------------------------------------------------
def test_deleting_one_removes_it(stack: LocalStack, person: dict[str, Any]) -> None:
    (message_id,) = deliver(person["tenant"].id, person["id"], [0])
    reply = stack.request("DELETE", f"/api/me/messages/{message_id}", token=person["token"])
    assert reply.status == 204
    assert reply.body == b""
    assert stack.request("GET", f"/api/me/messages/{message_id}", token=person["token"]).status == 404
    assert stack.request("DELETE", f"/api/me/messages/{message_id}", token=person["token"]).status == 404
    assert _stored(person["tenant"].id, person["id"], message_id) is None


def test_deleting_many_answers_each_outcome(stack: LocalStack, person: dict[str, Any]) -> None:
    ids = deliver(person["tenant"].id, person["id"], range(3))
    stack.request("POST", f"/api/me/messages/{ids[0]}/read", token=person["token"])
    unknown = _message_id(42)
    reply = stack.request(
        "POST", "/api/me/messages/delete", token=person["token"], json_body={"ids": [ids[0], ids[1], unknown]}
    )
    assert reply.status == 200, reply.body
    assert reply.json() == {
        "results": [
            {"id": ids[0], "status": "deleted", "error": None},
            {"id": ids[1], "status": "deleted", "error": None},
            {"id": unknown, "status": "not_found", "error": None},
        ],
        "unread": 1,
    }
    assert _ids(stack, person) == [ids[2]]


# -- isolation --------------------------------------------------------------------------------
def _assert_untouchable(stack: LocalStack, token: str, tenant_id: str, owner_id: str, message_id: str) -> None:
    """Every route answers 404 (or not_found) for a message that is not the caller's, and changes nothing."""
    assert stack.request("GET", f"/api/me/messages/{message_id}", token=token).status == 404
    assert stack.request("POST", f"/api/me/messages/{message_id}/read", token=token).status == 404
    assert stack.request("DELETE", f"/api/me/messages/{message_id}", token=token).status == 404
    for path in ("/api/me/messages/read", "/api/me/messages/delete"):
        reply = stack.request("POST", path, token=token, json_body={"ids": [message_id]})
        assert reply.json()["results"] == [{"id": message_id, "status": "not_found", "error": None}]
    assert stack.request("POST", "/api/me/messages/read-all", token=token).json()["marked"] == 0
    assert message_id not in [m["id"] for m in _get(stack, token, "/api/me/messages")["items"]]
    stored = _stored(tenant_id, owner_id, message_id)
    assert stored is not None
    assert stored.read is False


def test_another_users_message_is_404(stack: LocalStack, acme: TenantFixture, person: dict[str, Any]) -> None:
    (message_id,) = deliver(acme.id, person["id"], [0])
    other = _person(stack, acme)
    _assert_untouchable(stack, other["token"], acme.id, person["id"], message_id)
    _assert_untouchable(stack, acme.admin_token, acme.id, person["id"], message_id)  # an admin too: it is not theirs
    assert _unread(stack, person) == 1


def test_another_tenants_message_is_404(stack: LocalStack, globex: TenantFixture, person: dict[str, Any]) -> None:
    (message_id,) = deliver(person["tenant"].id, person["id"], [0])
    _assert_untouchable(stack, globex.admin_token, person["tenant"].id, person["id"], message_id)


def test_a_malformed_message_id_is_404(stack: LocalStack, person: dict[str, Any]) -> None:
    for message_id in ("not-a-ulid", "%23UNREAD", "0" * 27):
        assert stack.request("GET", f"/api/me/messages/{message_id}", token=person["token"]).status == 404


def test_deleting_with_a_stale_version_is_412_and_keeps_it(stack: LocalStack, person: dict[str, Any]) -> None:
    # Given a message read after the caller saw it at version 1
    (message_id,) = deliver(person["tenant"].id, person["id"], [0])
    seen = _get(stack, person["token"], f"/api/me/messages/{message_id}")["version"]
    stack.request("POST", f"/api/me/messages/{message_id}/read", token=person["token"])
    # When the caller deletes it naming that version
    stale = stack.request(
        "DELETE", f"/api/me/messages/{message_id}", token=person["token"], headers={"If-Match": f'"{seen}"'}
    )
    # Then it is a 412 and the message stays; the current version deletes it
    assert stale.status == 412
    assert _stored(person["tenant"].id, person["id"], message_id) is not None
    current = _get(stack, person["token"], f"/api/me/messages/{message_id}")["version"]
    assert current > seen
    assert (
        stack.request("DELETE", f"/api/me/messages/{message_id}?version={current}", token=person["token"]).status == 204
    )
    assert _stored(person["tenant"].id, person["id"], message_id) is None


# -- with a real send ------------------------------------------------------------------------
def test_a_sent_message_arrives_and_reading_it_counts_on_the_send(
    stack: LocalStack, acme: TenantFixture, person: dict[str, Any]
) -> None:
    # Given an in-app message sent to the person through the API (and fanned out)
    body = {
        "title": "Fire drill at 3",
        "content": "Meet at the car park",
        "type": "notice",
        "recipients": {"user_ids": [person["id"]]},
        "channels": ["in_app"],
    }
    sent = stack.request("POST", "/api/messages/send", token=acme.admin_token, json_body=body)
    assert sent.status == 202, sent.body
    send_id = sent.json()["id"]
    stack.settle()
    (message,) = _get(stack, person["token"], "/api/me/messages")["items"]
    assert (message["title"], message["send_id"], message["read"]) == ("Fire drill at 3", send_id, False)
    assert _unread(stack, person) == 1
    # When the person reads it
    assert stack.request("POST", f"/api/me/messages/{message['id']}/read", token=person["token"]).status == 200
    # Then the send counts it read, and its delivery record says so
    counts = _get(stack, acme.admin_token, f"/api/messages/{send_id}")["counts"]["in_app"]
    assert counts["read"] == 1
    assert counts["delivered"] == 0
    (delivery,) = _get(stack, acme.admin_token, f"/api/messages/{send_id}/deliveries")["items"]
    assert delivery["status"] == "read"
