"""Raw MIME messages, built with the standard library's ``email`` package (what the mailer gives SES).

A message is ``multipart/alternative`` (text/plain, then text/html, both UTF-8), inside
``multipart/mixed`` when it has attachments. Headers go through ``email.policy.SMTP``: addresses are
``Address`` objects (a non-ASCII display name is RFC 2047-encoded), and a header value with CR or LF is
refused by the policy itself (ValueError), a second guard behind riveredge.mail's checks. Bodies are
quoted-printable (7-bit on the wire, as SES asks), attachments base64.

``verbatim`` headers (List-Unsubscribe) are written as given, unfolded: the policy would RFC 2047-encode a
URL longer than a line, which no mail client reads as a URL. They must be printable ASCII of at most
:data:`MAX_VERBATIM` characters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid

POLICY = SMTP  # CRLF line ends, RFC 2047 for non-ASCII headers, lines folded at 78
MAX_VERBATIM = 900  # RFC 5322: a line is at most 998 characters


@dataclass(frozen=True)
class File:
    """An attachment's bytes, name and media type."""

    filename: str
    content_type: str
    data: bytes


def address(email: str, name: str | None = None) -> Address:
    """`email` (with its display name) as a header address; ValueError for one the email package refuses."""
    return Address(display_name=name or "", addr_spec=email)


def build(
    *,
    sender: Address,
    to: Sequence[str],
    subject: str,
    text: str,
    html: str,
    reply_to: str | None = None,
    files: Sequence[File] = (),
    headers: Mapping[str, str] | None = None,
    verbatim: Mapping[str, str] | None = None,
) -> bytes:
    """The message as bytes (CRLF, 7-bit: bodies quoted-printable, attachments base64)."""
    lines = b"".join(_verbatim(name, value) for name, value in (verbatim or {}).items())
    message = EmailMessage(policy=POLICY)
    message["From"] = sender
    message["To"] = [address(a) for a in to]
    if reply_to:
        message["Reply-To"] = address(reply_to)
    message["Subject"] = subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender.domain or None)
    message["MIME-Version"] = "1.0"
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text or " ", subtype="plain", charset="utf-8", cte="quoted-printable")
    if html:
        message.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    for file in files:
        maintype, _, subtype = file.content_type.partition("/")
        message.add_attachment(file.data, maintype=maintype, subtype=subtype, filename=file.filename)
    return lines + message.as_bytes(policy=POLICY)


def _verbatim(name: str, value: str) -> bytes:
    printable = all(" " <= c <= "~" for c in value)
    if not name.replace("-", "").isalnum() or not name.isascii() or not printable or len(value) > MAX_VERBATIM:
        raise ValueError(f"a verbatim header must be printable ASCII of at most {MAX_VERBATIM} characters: {name}")
    return f"{name}: {value}\r\n".encode("ascii")
