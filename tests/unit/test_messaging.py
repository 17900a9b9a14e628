"""What a message says on each channel, webhook signatures, phone numbers: pure logic of riveredge.messaging."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest
from riveredge.errors import ValidationError
from riveredge.messaging.channels import phone_number, signature, signed_headers
from riveredge.messaging.content import Message, Recipient, check_bodies

ANN = Recipient("01ARZ3NDEKTSV4RRFFQ69G5FAV", "Ann <Admin>", "ann@example.com", "+8613800138000")


def _templated(bodies: dict[str, Any], declared: tuple[dict[str, Any], ...] = (), **values: Any) -> Message:
    return Message(
        "01ARZ3NDEKTSV4RRFFQ69G5FAW",
        "notice",
        "Name",
        None,
        template_id="01ARZ3NDEKTSV4RRFFQ69G5FAX",
        template_version=1,
        bodies=bodies,
        declared=declared,
        values=values,
    )


def test_a_plain_message_says_its_words_as_they_are() -> None:
    plain = Message("01ARZ3NDEKTSV4RRFFQ69G5FAW", "notice", "Drill {{at}}", "Line one\nline <two>\n\nNext")
    assert plain.in_app(ANN) == ("Drill {{at}}", "Line one\nline <two>\n\nNext")
    subject, html, text = plain.email(ANN)
    assert subject == "Drill {{at}}" and text.startswith("Drill {{at}}\n\nLine one")
    assert html == "<h2>Drill {{at}}</h2><p>Line one<br>line &lt;two&gt;</p><p>Next</p>"
    assert plain.sms(ANN) == "Drill {{at}}: Line one\nline <two>\n\nNext"
    content_type, body = plain.webhook(ANN)
    assert content_type == "application/json"
    assert json.loads(body)["recipient"] == {"id": ANN.user_id, "name": ANN.name, "email": ANN.email}


def test_a_template_renders_for_each_recipient_escaping_html_only() -> None:
    bodies = {
        "in_app": {"title": "Hi {{recipient.name}}", "content": "{{count}} new"},
        "email": {
            "subject": "Hi {{recipient.name}}",
            "html": "<b>{{recipient.name}}</b>",
            "text": "{{recipient.name}}",
        },
        "sms": {"text": "{{count}} new for {{recipient.name}}"},
        "webhook": {"format": "json", "payload": {"who": "{{recipient.name}}", "n": "{{count}}", "fixed": [1, True]}},
    }
    message = _templated(bodies, ({"key": "count", "required": True},), count=3)
    assert message.in_app(ANN) == ("Hi Ann <Admin>", "3 new")
    assert message.email(ANN) == ("Hi Ann <Admin>", "<b>Ann &lt;Admin&gt;</b>", "Ann <Admin>")
    assert message.sms(ANN) == "3 new for Ann <Admin>"
    assert json.loads(message.webhook(ANN)[1]) == {"who": "Ann <Admin>", "n": "3", "fixed": [1, True]}
    text = _templated(
        {"webhook": {"format": "text", "text": "{{count}} for {{recipient.email}}"}}, ({"key": "count"},), count=2
    )
    assert text.webhook(ANN) == ("text/plain; charset=utf-8", b"2 for ann@example.com")


def test_a_value_with_quotes_keeps_a_json_webhook_body_valid_json() -> None:
    payload = {"format": "json", "payload": {"note": "{{note}}"}}
    message = _templated({"webhook": payload}, ({"key": "note"},), note='he said "hi", }{')
    assert json.loads(message.webhook(ANN)[1]) == {"note": 'he said "hi", }{'}


def test_check_names_a_missing_required_variable_and_the_part_that_cannot_render() -> None:
    message = _templated({"sms": {"text": "{{count}}"}}, ({"key": "count", "required": True},))
    with pytest.raises(ValidationError) as missing:
        message.check(["sms"])
    assert [e.field for e in missing.value.errors] == ["variables.count"]
    looped = _templated(
        {"in_app": {"title": "{{#each items}}x{{/each}}"}}, ({"key": "items"},), items=list(range(20_000))
    )
    with pytest.raises(ValidationError) as bounded:
        looped.check(["in_app"])
    assert bounded.value.errors[0].field == "template.in_app.title"


def test_bodies_are_checked_naming_the_channel_part_and_where() -> None:
    problems = check_bodies(
        {
            "email": {"subject": "ok", "html": "<p>\n{{#if x}}", "text": ""},
            "sms": {"text": "{{unknown}}"},
            "webhook": {"format": "json", "payload": {"a": ["{{bad|nope}}"]}},
        },
        ["x"],
    )
    fields = {p.field: p.message for p in problems}
    assert set(fields) == {"bodies.email.html", "bodies.sms.text", "bodies.webhook.payload.a[0]"}
    assert "line 2" in fields["bodies.email.html"] and "unknown variable 'unknown'" in fields["bodies.sms.text"]
    assert check_bodies({"in_app": {"title": "{{recipient.name}} {{x.y}}"}}, ["x.y"]) == []


def test_a_webhook_signature_is_hmac_sha256_of_the_timestamp_and_body() -> None:
    body = b'{"a": 1}'
    expected = hmac.new(b"secret", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert signature("secret", 1700000000, body) == f"sha256={expected}"
    headers = signed_headers(
        "secret",
        body,
        delivery_id="d-1",
        event="message.delivery",
        content_type="application/json",
        timestamp=1700000000,
    )
    assert headers["X-RiverEdge-Signature"] == f"sha256={expected}" and headers["X-RiverEdge-Timestamp"] == "1700000000"
    assert headers["X-RiverEdge-Delivery"] == "d-1"


@pytest.mark.parametrize(
    ("given", "number"),
    [
        ("+86 138 0013 8000", "+8613800138000"),
        ("+1 (555) 010-0001", "+15550100001"),
        ("+44.20.7946.0958", "+442079460958"),
        ("13800138000", None),
        ("+0123456789", None),
        ("+1 555", None),
        ("+1555010000100000", None),
        ("", None),
        (None, None),
    ],
)
def test_phone_numbers_are_e164_or_nothing(given: str | None, number: str | None) -> None:
    assert phone_number(given) == number
