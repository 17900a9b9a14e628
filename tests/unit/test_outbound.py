"""The outbound HTTP guard: only public addresses, resolved once, checked on every hop; no socket here."""

from __future__ import annotations

import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from riveredge import outbound
from riveredge.errors import ValidationError
from riveredge.outbound import OutboundError, Reply, Target

PUBLIC = "93.184.216.34"
PUBLIC_V6 = "2606:2800:220:1:248:1893:25c8:1946"

DNS: dict[str, list[str]] = {
    "example.com": [PUBLIC],
    "v6.example.com": [PUBLIC_V6],
    "mixed.example.com": [PUBLIC, "10.0.0.5"],
    "next.example.com": ["93.184.216.35"],
    "internal.acme.test": ["10.1.2.3"],
    "metadata.acme.test": ["169.254.169.254"],
    "rebind.example.com": ["127.0.0.1"],
}


def resolver(host: str, port: int) -> list[str]:
    """A fake DNS: the table above, and no such host for anything else."""
    if host not in DNS:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return DNS[host]


@dataclass
class Call:
    target: Target
    address: str
    method: str
    headers: Mapping[str, str]
    body: bytes | None


@dataclass
class FakeOpener:
    """Answers from `replies` by URL (200 "ok" otherwise) and records every exchange."""

    replies: dict[str, Reply] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)

    def __call__(
        self,
        target: Target,
        *,
        address: str,
        method: str,
        headers: Mapping[str, str],
        body: bytes | None,
        connect_timeout: float,
        read_timeout: float,
        max_bytes: int,
    ) -> Reply:
        self.calls.append(Call(target, address, method, dict(headers), body))
        return self.replies.get(target.url, Reply(200, {"content-type": "text/plain"}, b"ok"))


def redirect(location: str, status: int = 302) -> Reply:
    return Reply(status, {"location": location}, b"")


def refused_field(error: pytest.ExceptionInfo[ValidationError]) -> tuple[str, str]:
    (problem,) = error.value.errors
    return problem.field, problem.message


REFUSED_ADDRESSES = [
    "http://10.0.0.1/",
    "http://172.16.0.1/",
    "http://172.31.255.255/",
    "http://192.168.1.1/",
    "http://127.0.0.1/",
    "http://127.255.255.254:8080/",
    "http://169.254.0.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://169.254.170.2/v2/credentials",
    "http://100.64.0.1/",
    "http://100.100.100.200/latest/meta-data/",
    "http://198.18.0.1/",
    "http://192.0.2.1/",
    "http://198.51.100.7/",
    "http://203.0.113.9/",
    "http://0.0.0.0/",
    "http://0.1.2.3/",
    "http://240.0.0.1/",
    "http://255.255.255.255/",
    "http://224.0.0.1/",
    "http://239.255.255.250/",
    "http://[::1]/",
    "http://[::]/",
    "http://[fe80::1]/",
    "http://[fc00::1]/",
    "http://[fd12:3456::1]/",
    "http://[ff02::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:10.0.0.1]/",
    "http://[::ffff:a9fe:a9fe]/",
    "http://[64:ff9b::a00:1]/",
    "http://[64:ff9b::7f00:1]/",
    "http://[2002:a00:1::]/",
    "http://[2002:7f00:1::]/",
    "http://[fd00:ec2::254]/latest/meta-data/",
    "http://[2001:db8::1]/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0177.0.0.1/",
    "http://0x7f.0.0.1/",
    "http://127.1/",
    "http://0x7f.1/",
    "http://0xa9.0xfe.0xa9.0xfe/",
    "http://2852039166/",
    "http://012.0.0.1/",
    "http://10.1/",
    "http://0/",
    "https://127.0.0.1./",
]


@pytest.mark.parametrize("url", REFUSED_ADDRESSES)
def test_a_forbidden_address_is_refused_without_a_connection(url: str) -> None:
    # Given a URL whose host is (or encodes) an address that is not public
    opener = FakeOpener()
    # When it is requested, Then it is refused naming the field, and nothing is opened
    with pytest.raises(ValidationError) as error:
        outbound.request("GET", url, resolver=resolver, opener=opener, field="webhook.url")
    assert error.value.status == 422
    assert refused_field(error)[0] == "webhook.url"
    assert refused_field(error)[1].startswith("points to")
    assert opener.calls == []


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("http://2130706433/", "127.0.0.1"),
        ("http://0177.0.0.1/", "127.0.0.1"),
        ("http://0x7f.0.0.1/", "127.0.0.1"),
        ("http://127.1/", "127.0.0.1"),
        ("http://0x5d.0270.55330/", PUBLIC),
        ("http://1572395042/", PUBLIC),
        ("http://[::ffff:5db8:d822]/", "::ffff:93.184.216.34"),
    ],
)
def test_literal_hosts_are_normalised_to_the_address_they_mean(url: str, address: str) -> None:
    # Given any inet_aton form of an IPv4 literal, the checked target names the address itself
    if address == "127.0.0.1":
        with pytest.raises(ValidationError, match="not an allowed outbound URL"):
            outbound.check_url(url, resolver=resolver)
        return
    target = outbound.check_url(url, resolver=resolver)
    assert target.addresses == (address,)
    assert target.host == address


def test_a_literal_host_is_not_sent_to_the_resolver() -> None:
    def no_dns(host: str, port: int) -> list[str]:
        raise AssertionError(f"resolved {host}")

    assert outbound.check_url(f"http://{PUBLIC}/", resolver=no_dns).addresses == (PUBLIC,)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("file:///etc/passwd", "http or https"),
        ("gopher://example.com/", "http or https"),
        ("ftp://example.com/", "http or https"),
        ("dict://example.com:11211/", "http or https"),
        ("example.com/path", "http or https"),
        ("http://user:secret@example.com/", "user name or password"),
        ("http://user@example.com/", "user name or password"),
        ("http://example.com\\@127.0.0.1/", "user name or password"),
        ("http:///path", "must name a host"),
        ("http://example.com:0/", "port 0"),
        ("http://example.com:99999/", "not a valid URL"),
        ("http://[::1/", "not a valid URL"),
        ("http://exa mple.com/", "spaces or control characters"),
        ("http://example.com/\r\nX-Injected: 1", "spaces or control characters"),
        ("http://1.2.3.4.5/", "not a valid IP address"),
        ("http://999.1.1.1/", "not a valid IP address"),
        ("http://foo.123/", "not a valid IP address"),
        ("http://[fe80::1%25eth0]/", "not a valid IP address"),
        ("http://exa_mple..com/", "not a valid host name"),
        ("http://%31%32%37.0.0.1/", "not a valid IP address"),
        ("http://-bad.example.com/", "not a valid host name"),
        ("http://example.com/" + "a" * 2048, "at most 2048 characters"),
    ],
)
def test_a_url_that_is_not_a_plain_http_url_is_refused(url: str, message: str) -> None:
    opener = FakeOpener()
    with pytest.raises(ValidationError) as error:
        outbound.request("GET", url, resolver=resolver, opener=opener)
    assert refused_field(error)[0] == "url"
    assert message in refused_field(error)[1]
    assert opener.calls == []


def test_a_public_host_is_reached_at_its_checked_address_with_its_own_host_header() -> None:
    # Given a host that resolves to a public address
    opener = FakeOpener()
    # When it is requested, with a Host header the caller tried to set
    response = outbound.request(
        "post",
        "https://example.com/hooks?x=1#fragment",
        headers={"host": "169.254.169.254", "Content-Type": "application/json"},
        body=b"{}",
        resolver=resolver,
        opener=opener,
    )
    # Then the exchange goes to that exact address, naming the original host
    (call,) = opener.calls
    assert call.address == PUBLIC
    assert call.method == "POST"
    assert call.headers == {"Host": "example.com", "Content-Type": "application/json"}
    assert call.body == b"{}"
    assert (call.target.scheme, call.target.host, call.target.port, call.target.path) == (
        "https",
        "example.com",
        443,
        "/hooks?x=1",
    )
    assert (response.status, response.body, response.url) == (200, b"ok", "https://example.com/hooks?x=1")
    assert response.elapsed >= 0


def test_a_non_default_port_and_an_ipv6_address_are_named_in_the_host_header() -> None:
    opener = FakeOpener()
    outbound.request("GET", "http://v6.example.com:8080/", resolver=resolver, opener=opener)
    outbound.request("GET", f"http://[{PUBLIC_V6}]/", resolver=resolver, opener=opener)
    assert [c.headers["Host"] for c in opener.calls] == ["v6.example.com:8080", f"[{PUBLIC_V6}]"]
    assert [c.address for c in opener.calls] == [PUBLIC_V6, PUBLIC_V6]


def test_a_dns_answer_mixing_public_and_private_addresses_is_refused() -> None:
    opener = FakeOpener()
    with pytest.raises(ValidationError) as error:
        outbound.request("GET", "https://mixed.example.com/", resolver=resolver, opener=opener)
    assert refused_field(error) == ("url", "points to a private address")
    assert opener.calls == []


def test_a_host_name_resolving_to_loopback_is_refused() -> None:
    with pytest.raises(ValidationError, match="not an allowed outbound URL"):
        outbound.check_url("http://rebind.example.com/", resolver=resolver)


def test_a_host_that_does_not_resolve_is_a_refusal_naming_the_field() -> None:
    opener = FakeOpener()
    with pytest.raises(ValidationError) as error:
        outbound.request("GET", "https://nowhere.invalid/", resolver=resolver, opener=opener, field="source.url")
    assert error.value.status == 422
    assert refused_field(error) == ("source.url", "has a host name that could not be resolved")
    assert opener.calls == []


@pytest.mark.parametrize("answer", [[], ["not-an-address"]])
def test_a_resolver_answering_nothing_usable_is_a_refusal(answer: list[str]) -> None:
    with pytest.raises(ValidationError, match="not an allowed outbound URL"):
        outbound.check_url("https://example.com/", resolver=lambda host, port: answer)


def test_the_host_is_resolved_once_per_hop() -> None:
    # Given a resolver that would answer differently the second time (DNS rebinding)
    answers = iter([[PUBLIC], ["127.0.0.1"]])
    asked: list[tuple[str, int]] = []

    def rebinding(host: str, port: int) -> list[str]:
        asked.append((host, port))
        return next(answers)

    opener = FakeOpener()
    outbound.request("GET", "https://example.com/", resolver=rebinding, opener=opener)
    # Then it was asked once, and the connection went to the first (checked) answer
    assert asked == [("example.com", 443)]
    assert [c.address for c in opener.calls] == [PUBLIC]


def test_a_redirect_to_the_metadata_address_is_refused() -> None:
    # Given a public server that redirects to the metadata service
    opener = FakeOpener({"https://example.com/": redirect("http://169.254.169.254/latest/meta-data/")})
    # When it is requested, Then the redirect is checked like the first URL and refused
    with pytest.raises(ValidationError) as error:
        outbound.request("GET", "https://example.com/", resolver=resolver, opener=opener)
    assert refused_field(error) == ("url", "redirects to a refused URL: points to a cloud metadata address")
    assert [c.target.url for c in opener.calls] == ["https://example.com/"]


def test_a_redirect_to_another_scheme_is_refused() -> None:
    opener = FakeOpener({"https://example.com/": redirect("file:///etc/passwd")})
    with pytest.raises(ValidationError, match="not an allowed outbound URL"):
        outbound.request("GET", "https://example.com/", resolver=resolver, opener=opener)
    assert len(opener.calls) == 1


def test_three_redirects_are_followed_and_a_fourth_is_refused() -> None:
    chain = {f"https://example.com/{n}": redirect(f"https://example.com/{n + 1}") for n in range(4)}
    # Given three redirects, the answer of the URL the third one names is the response
    response = outbound.request("GET", "https://example.com/1", resolver=resolver, opener=FakeOpener(chain))
    assert (response.status, response.url) == (200, "https://example.com/4")
    # Given four redirects, the fourth is refused
    opener = FakeOpener(chain)
    with pytest.raises(OutboundError) as error:
        outbound.request("GET", "https://example.com/0", resolver=resolver, opener=opener)
    assert error.value.reason == "too_many_redirects"
    assert len(opener.calls) == 4


def test_a_relative_redirect_is_resolved_against_the_current_url() -> None:
    opener = FakeOpener(
        {
            "https://example.com/a/b?x=1": redirect("../c?y=2", 307),
            "https://example.com/c?y=2": redirect("//next.example.com:8443/d", 308),
        }
    )
    response = outbound.request("PUT", "https://example.com/a/b?x=1", body=b"x", resolver=resolver, opener=opener)
    assert response.url == "https://next.example.com:8443/d"
    assert [(c.address, c.method, c.body) for c in opener.calls] == [
        (PUBLIC, "PUT", b"x"),
        (PUBLIC, "PUT", b"x"),
        ("93.184.216.35", "PUT", b"x"),
    ]
    assert opener.calls[-1].headers["Host"] == "next.example.com:8443"


def test_a_303_turns_into_a_get_without_body_and_credentials_stay_with_their_origin() -> None:
    opener = FakeOpener({"https://example.com/": redirect("https://next.example.com/done", 303)})
    outbound.request(
        "POST",
        "https://example.com/",
        headers={"Authorization": "Bearer t", "Content-Type": "application/json", "X-Signature": "s"},
        body=b"{}",
        resolver=resolver,
        opener=opener,
    )
    last = opener.calls[-1]
    assert (last.method, last.body) == ("GET", None)
    assert last.headers == {"X-Signature": "s", "Host": "next.example.com"}


def test_the_allow_list_admits_a_listed_internal_host_name() -> None:
    opener = FakeOpener()
    allow = frozenset({"internal.acme.test"})
    outbound.request("GET", "http://internal.acme.test/health", allow_hosts=allow, resolver=resolver, opener=opener)
    assert [c.address for c in opener.calls] == ["10.1.2.3"]
    # And only that name: another private destination is still refused
    with pytest.raises(ValidationError):
        outbound.request("GET", "http://10.1.2.4/", allow_hosts=allow, resolver=resolver, opener=opener)


@pytest.mark.parametrize("url", ["http://10.20.30.40/", "http://[::ffff:10.20.30.40]/", "http://012.024.036.050/"])
def test_the_allow_list_admits_a_listed_network(url: str) -> None:
    target = outbound.check_url(url, allow_hosts=frozenset({"10.20.0.0/16"}), resolver=resolver)
    assert len(target.addresses) == 1


@pytest.mark.parametrize(
    ("url", "allow"),
    [
        ("http://169.254.169.254/latest/meta-data/", "169.254.0.0/16"),
        ("http://169.254.169.254/latest/meta-data/", "0.0.0.0/0"),
        ("http://[fd00:ec2::254]/", "::/0"),
        ("http://[::ffff:169.254.169.254]/", "169.254.169.254"),
        ("http://100.100.100.200/", "100.64.0.0/10"),
        ("http://metadata.acme.test/", "metadata.acme.test"),
    ],
)
def test_the_allow_list_never_admits_the_metadata_address(url: str, allow: str) -> None:
    opener = FakeOpener()
    with pytest.raises(ValidationError) as error:
        outbound.request("GET", url, allow_hosts=frozenset({allow}), resolver=resolver, opener=opener)
    assert refused_field(error)[1] == "points to a cloud metadata address"
    assert opener.calls == []


def test_an_oversize_body_is_refused() -> None:
    opener = FakeOpener({"https://example.com/big": Reply(200, {}, b"x" * 101)})
    with pytest.raises(OutboundError) as error:
        outbound.request("GET", "https://example.com/big", max_bytes=100, resolver=resolver, opener=opener)
    assert error.value.reason == "response_too_large"
    assert error.value.status == 502
    # And a body at the cap is fine
    opener = FakeOpener({"https://example.com/big": Reply(200, {}, b"x" * 100)})
    assert (
        len(outbound.request("GET", "https://example.com/big", max_bytes=100, opener=opener, resolver=resolver).body)
        == 100
    )


def test_a_refused_connection_falls_over_to_the_next_checked_address() -> None:
    DNS_TWO = {"two.example.com": ["93.184.216.40", "93.184.216.41"]}
    tried: list[str] = []

    def flaky(target: Target, *, address: str, **_: Any) -> Reply:
        tried.append(address)
        if address == "93.184.216.40":
            raise OutboundError("connect_failed")
        return Reply(204, {}, b"")

    response = outbound.request("GET", "https://two.example.com/", resolver=lambda h, p: DNS_TWO[h], opener=flaky)
    assert (response.status, tried) == (204, ["93.184.216.40", "93.184.216.41"])


# The default opener, with urllib3's pool replaced: its wiring, without a socket.


class FakeUrllib3Response:
    def __init__(self, body: bytes, status: int = 200) -> None:
        self.status = status
        self.headers = FakeHeaders({"Content-Type": "text/plain"})
        self._body = body
        self.reads = 0

    def read(self, amt: int) -> bytes:
        self.reads += 1
        chunk, self._body = self._body[:amt], self._body[amt:]
        return chunk


class FakeHeaders(dict[str, str]):
    def itermerged(self) -> Any:
        return iter(self.items())


class FakePool:
    made: list[FakePool] = []
    body = b"hello"
    error: Exception | None = None

    def __init__(self, host: str, port: int, **kwargs: Any) -> None:
        self.host, self.port, self.kwargs = host, port, kwargs
        self.opened: list[tuple[str, str, dict[str, Any]]] = []
        self.closed = False
        self.response = FakeUrllib3Response(self.body)
        FakePool.made.append(self)

    def urlopen(self, method: str, url: str, **kwargs: Any) -> FakeUrllib3Response:
        self.opened.append((method, url, kwargs))
        if FakePool.error is not None:
            raise FakePool.error
        return self.response

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def pools(monkeypatch: pytest.MonkeyPatch) -> type[FakePool]:
    FakePool.made, FakePool.body, FakePool.error = [], b"hello", None
    monkeypatch.setattr(outbound.urllib3, "HTTPSConnectionPool", FakePool)
    monkeypatch.setattr(outbound.urllib3, "HTTPConnectionPool", FakePool)
    return FakePool


def test_the_default_opener_connects_to_the_address_and_verifies_tls_against_the_host(pools: type[FakePool]) -> None:
    response = outbound.request("POST", "https://example.com/hook?a=1", body=b"{}", resolver=resolver)
    (pool,) = pools.made
    assert (pool.host, pool.port) == (PUBLIC, 443)
    assert pool.kwargs["server_hostname"] == "example.com"
    assert pool.kwargs["assert_hostname"] == "example.com"
    assert pool.kwargs["cert_reqs"] == "CERT_REQUIRED"
    assert pool.kwargs["retries"] is False
    assert (pool.kwargs["timeout"].connect_timeout, pool.kwargs["timeout"].read_timeout) == (3.0, 10.0)
    ((method, path, sent),) = pool.opened
    assert (method, path, sent["headers"]["Host"], sent["body"]) == ("POST", "/hook?a=1", "example.com", b"{}")
    assert sent["redirect"] is False
    assert sent["preload_content"] is False
    assert pool.closed
    assert (response.status, response.body, response.headers) == (200, b"hello", {"content-type": "text/plain"})


def test_the_default_opener_uses_a_plain_pool_for_http(pools: type[FakePool]) -> None:
    outbound.request("GET", "http://example.com:8080/", resolver=resolver)
    (pool,) = pools.made
    assert (pool.host, pool.port) == (PUBLIC, 8080)
    assert "server_hostname" not in pool.kwargs
    assert pool.opened[0][2]["headers"]["Host"] == "example.com:8080"


def test_the_default_opener_stops_reading_past_the_cap(pools: type[FakePool]) -> None:
    pools.body = b"x" * (1 << 20)
    with pytest.raises(OutboundError) as error:
        outbound.request("GET", "https://example.com/", max_bytes=20_000, resolver=resolver)
    assert error.value.reason == "response_too_large"
    assert pools.made[0].response.reads == 2  # 16 KiB chunks: stopped right after crossing 20 000 bytes


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        (outbound.ConnectTimeoutError("connect timed out"), "connect_failed"),
        (outbound.ReadTimeoutError(None, "/", "read timed out"), "timeout"),  # type: ignore[arg-type]
        (outbound.SSLError("certificate verify failed"), "tls_failed"),
        (ConnectionResetError("reset"), "network_error"),
    ],
)
def test_network_failures_are_outbound_errors_with_a_reason(
    pools: type[FakePool], failure: Exception, reason: str
) -> None:
    pools.error = failure
    with pytest.raises(OutboundError) as error:
        outbound.request("GET", "https://example.com/", resolver=resolver)
    assert error.value.reason == reason
    assert error.value.status == 502


def test_a_real_exchange_reaches_the_checked_address_and_a_redirect_inside_is_refused() -> None:
    # Given a real server on loopback, admitted by the allow-list (as a deployment with an internal host would)
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(f"{self.path} {self.headers['Host']}")
            if self.path == "/hop":
                self.send_response(302)
                self.send_header("Location", "http://10.0.0.7/inside")
                self.end_headers()
                return
            body = b"x" * 64
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        allow = frozenset({"127.0.0.1/32"})
        # When a host name resolving to it is requested, the exchange goes to the checked address with the name
        response = outbound.request(
            "GET", f"http://hooks.internal.test:{port}/ok", allow_hosts=allow, resolver=lambda h, p: ["127.0.0.1"]
        )
        assert (response.status, response.body) == (200, b"x" * 64)
        assert seen == [f"/ok hooks.internal.test:{port}"]
        # And a body over the cap is refused rather than read whole
        with pytest.raises(OutboundError) as too_large:
            outbound.request("GET", f"http://127.0.0.1:{port}/ok", allow_hosts=allow, max_bytes=10)
        assert too_large.value.reason == "response_too_large"
        # And a redirect to a private address is refused before any connection to it
        with pytest.raises(ValidationError) as refused:
            outbound.request("GET", f"http://127.0.0.1:{port}/hop", allow_hosts=allow)
        assert "redirects to a refused URL" in refused_field(refused)[1]
        # Without the allow-list, loopback is refused outright
        with pytest.raises(ValidationError):
            outbound.request("GET", f"http://127.0.0.1:{port}/ok")
    finally:
        server.shutdown()
