"""riveredge.mime: the MIME the mailer gives SES, parsed back with the email package; keys.ulid_day."""

from __future__ import annotations

import email
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage

import pytest
from riveredge import keys, mime
from ulid import ULID

LINK = "<https://api.example/api/public/mail/unsubscribe?token=" + "A" * 300 + ".B>"


def _parsed(raw: bytes) -> EmailMessage:
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_a_message_round_trips_with_encoded_headers_parts_and_a_verbatim_unsubscribe_link() -> None:
    raw = mime.build(
        sender=mime.address("no-reply@river.example", "河边 RiverEdge"),
        to=["ada@people.example"],
        subject="你好 — a subject long enough to be folded over more than one line of the header block",
        text="Hello 世界",
        html="<p>Hello 世界</p>",
        reply_to="help@river.example",
        files=[mime.File("报告.pdf", "application/pdf", b"%PDF-1.4")],
        verbatim={"List-Unsubscribe": LINK, "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
    )
    assert raw.isascii() and b"\r\n" in raw  # 7-bit, CRLF
    assert f"List-Unsubscribe: {LINK}\r\n".encode() in raw  # one line, not RFC 2047-encoded
    message = _parsed(raw)
    assert message["From"].addresses[0].display_name == "河边 RiverEdge"
    assert message["Subject"].startswith("你好 — a subject long enough")
    assert message["List-Unsubscribe"] == LINK
    assert [(p.get_content_type(), p.get_content_charset(), p.get_filename()) for p in message.walk()] == [
        ("multipart/mixed", None, None),
        ("multipart/alternative", None, None),
        ("text/plain", "utf-8", None),
        ("text/html", "utf-8", None),
        ("application/pdf", None, "报告.pdf"),
    ]


@pytest.mark.parametrize(
    "injected",
    [
        {"subject": "Hi\r\nBcc: victim@evil.example"},
        {"to": ["ada@people.example\r\nBcc: victim@evil.example"]},
        {"reply_to": "help@river.example\nBcc: victim@evil.example"},
    ],
)
def test_the_email_package_refuses_a_header_injection_too(injected: dict[str, object]) -> None:
    message = {"to": ["ada@people.example"], "subject": "Hi", **injected}
    with pytest.raises(ValueError, match=r"(?i)cannot contain CR or LF|may not contain linefeed"):
        mime.build(sender=mime.address("no-reply@river.example"), text="x", html="<p>x</p>", **message)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["<https://a.example/x>\r\nBcc: v@evil.example", "<https://a.example/é>", "x" * 901])
def test_a_verbatim_header_must_be_one_printable_ascii_line(value: str) -> None:
    with pytest.raises(ValueError, match="verbatim"):
        mime.build(
            sender=mime.address("no-reply@river.example"),
            to=["ada@people.example"],
            subject="Hi",
            text="x",
            html="",
            verbatim={"List-Unsubscribe": value},
        )


def test_the_day_of_a_ulid_is_the_utc_day_of_its_time() -> None:
    last = datetime(2026, 12, 31, 23, 59, 59, 999_000, tzinfo=UTC)
    assert keys.ulid_day(str(ULID.from_datetime(last))) == "2026-12-31"
    assert keys.ulid_day(str(ULID.from_datetime(datetime(2027, 1, 1, tzinfo=UTC)))) == "2027-01-01"
    assert keys.ulid_day(str(ULID.from_datetime(last)).lower()) == "2026-12-31"
    for bad in ("", "0" * 25, "U" * 26, "01ARZ3NDEKTSV4RRFFQ69G5FA!"):
        with pytest.raises(ValueError, match="not a ULID"):
            keys.ulid_day(bad)
