"""The one way the platform makes outbound HTTP: webhooks, integration test calls, data sources, rule actions.

Every URL a tenant can configure is a server-side request forgery risk: it could point at the cloud
metadata service, at the Lambda runtime API on loopback, or at a private network behind a VPC.

`check_url(url, *, allow_hosts=frozenset(), resolver=None, field="url") -> Target`
    Parses `url`, resolves its host once and checks every resolved address; answers the checked
    `Target` (scheme, host, port, path and query, addresses). Raises `ValidationError` naming
    `field` (a 422 for routes) when the URL or any of its addresses is refused.

`check_url_shape(url, *, allow_hosts=frozenset(), field="url") -> None`
    The checks that need no DNS, for a URL being saved (an IP literal in any form, localhost).

`request(method, url, *, headers=None, body=None, allow_hosts=frozenset(), resolver=None, field="url",
connect_timeout=3.0, read_timeout=10.0, max_bytes=1 << 20, max_redirects=3, opener=None) -> Response`
    `check_url`, then connects to a checked address, never resolving the host again (DNS
    rebinding), with the host name in the Host header and for TLS (SNI and certificate check).
    Redirects are followed only after the same check on the new URL, at most `max_redirects`.
    Answers `Response` (status, headers, body, final URL, elapsed seconds). Network failures,
    an oversize body and too many redirects raise `OutboundError` (a 502 with a `reason`).

What is refused:
- schemes other than http and https; user:password@ in the URL; hosts that are not a DNS name or
  an IP literal;
- any address that is not `is_global`, or is multicast, reserved, unspecified, or in `_DENIED`
  (CGNAT, benchmarking, documentation, 6to4, ...): private, loopback, link-local, unique-local;
- IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::/96) addresses are judged by the IPv4
  address they carry; 6to4 (2002::/16) is refused outright;
- a host whose resolution mixes allowed and refused addresses;
- IPv4 literals in the forms inet_aton accepts (2130706433, 0177.0.0.1, 0x7f.0.0.1, 127.1) are
  normalised to the address they mean first, as any resolver or browser would.

`allow_hosts` (exact lower-case host names and/or CIDR networks) admits internal destinations a
deployment needs; the cloud metadata and credential addresses in `_NEVER_ALLOWED`, the
unspecified address and multicast are refused even then. Whoever fills `allow_hosts` from tenant
settings decides whether tenants may name loopback (the Lambda runtime API listens there).
"""

from __future__ import annotations

import ipaddress
import re
import socket
import time
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    NewConnectionError,
    ReadTimeoutError,
    SSLError,
)

from riveredge.errors import DomainError, FieldProblem, ValidationError

type IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
type IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
type Resolver = Callable[[str, int], Sequence[str]]

_SCHEMES = {"http": 80, "https": 443}
_MAX_URL_LENGTH = 2048
_REDIRECTS = {301, 302, 303, 307, 308}
# Headers that must not follow a redirect to another origin.
_CREDENTIAL_HEADERS = {"authorization", "cookie", "proxy-authorization"}
_BODY_HEADERS = {"content-type", "content-length", "content-encoding", "transfer-encoding"}
_CHUNK = 16 * 1024
_HOST_NAME = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)(\.(?!-)[a-z0-9_-]{1,63}(?<!-))*$")
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")


def _networks(*cidrs: str) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(cidr) for cidr in cidrs)


# Cloud metadata and credential endpoints: never reachable, whatever the allow-list says.
# AWS IMDS (v4 and v6), ECS task credentials, EKS pod identity (v4 and v6), Alibaba Cloud.
# GCP, Azure and Oracle Cloud also answer on 169.254.169.254.
_NEVER_ALLOWED = _networks(
    "169.254.169.254/32",
    "fd00:ec2::254/128",
    "169.254.170.2/32",
    "169.254.170.23/32",
    "fd00:ec2::23/128",
    "100.100.100.200/32",
)

# Ranges `is_global` does not (or, depending on the Python version, may not) exclude.
_DENIED: tuple[tuple[IPNetwork, str], ...] = (
    *((n, "a reserved address") for n in _networks("0.0.0.0/8", "240.0.0.0/4", "192.0.0.0/24", "192.88.99.0/24")),
    (ipaddress.ip_network("100.64.0.0/10"), "a carrier-grade NAT address"),
    (ipaddress.ip_network("198.18.0.0/15"), "a benchmarking address"),
    *(
        (n, "a documentation address")
        for n in _networks("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32", "3fff::/20")
    ),
    (ipaddress.ip_network("2002::/16"), "a 6to4 address"),
    (ipaddress.ip_network("2001::/23"), "a reserved address"),
    (ipaddress.ip_network("64:ff9b:1::/48"), "a local NAT64 address"),
    (ipaddress.ip_network("100::/64"), "a discard address"),
)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class OutboundError(DomainError):
    """The remote end could not be reached or misbehaved: not the caller's URL, not our bug.

    `reason` is stable: connect_failed, timeout, tls_failed, network_error,
    response_too_large, too_many_redirects.
    """

    status = 502
    type = "/problems/outbound-request-failed"
    title = "The remote server could not be reached"

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(detail or reason.replace("_", " "))
        self.reason = reason


@dataclass(frozen=True)
class Target:
    """A checked destination: connect only to `addresses`, name `host` in Host and TLS."""

    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]

    @property
    def host_header(self) -> str:
        """`host[:port]`, the port only when it is not the scheme's default, IPv6 bracketed."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == _SCHEMES[self.scheme] else f"{host}:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host_header}{self.path}"


@dataclass(frozen=True)
class Reply:
    """What an opener answers for one hop: `body` is at most `max_bytes + 1` bytes."""

    status: int
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str
    elapsed: float


class Opener(Protocol):
    """Makes one HTTP exchange with `address`, on behalf of `target`; raises OutboundError."""

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
    ) -> Reply: ...


def _refuse(field: str, message: str) -> ValidationError:
    return ValidationError(f"{field} is not an allowed outbound URL", errors=[FieldProblem(field, message)])


def _parse_allow_list(allow_hosts: Iterable[str]) -> tuple[frozenset[str], tuple[IPNetwork, ...]]:
    names: set[str] = set()
    networks: list[IPNetwork] = []
    for entry in allow_hosts:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            names.add(entry.lower().rstrip("."))
    return frozenset(names), tuple(networks)


def _literal(host: str) -> IPAddress | None:
    """The address an IP literal host means (any inet_aton form for IPv4), None for a DNS name.

    Raises ValueError for a host that ends in a number but is no valid IPv4 address (WHATWG URL).
    """
    if "%" in host:
        raise ValueError("IPv6 zone identifiers are not accepted")
    if ":" in host:
        return ipaddress.IPv6Address(host)
    if not _NUMERIC_LABEL.match(host.rsplit(".", 1)[-1]):
        return None
    try:
        # inet_aton, unlike ipaddress, reads decimal, octal, hex and short forms: as resolvers do.
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError as error:
        raise ValueError(f"{host!r} is not a valid IPv4 address") from error


def _judged(address: IPAddress) -> IPAddress:
    """The address that decides: the IPv4 one inside an IPv4-mapped or NAT64 IPv6 address."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address in _NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def _why_refused(address: IPAddress, *, host_allowed: bool, networks: tuple[IPNetwork, ...]) -> str | None:
    """Why `address` may not be reached, or None when it may."""
    address = _judged(address)
    if any(address in network for network in _NEVER_ALLOWED):
        return "points to a cloud metadata address"
    if address.is_unspecified:
        return "points to the unspecified address"
    if address.is_multicast:
        return "points to a multicast address"
    if host_allowed or any(address in network for network in networks):
        return None
    for network, name in _DENIED:
        if address in network:
            return f"points to {name}"
    checks = (
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address"),
        (address.is_reserved, "a reserved address"),
        (address.is_private, "a private address"),
        (not address.is_global, "an address that is not public"),
    )
    return next((f"points to {name}" for refused, name in checks if refused), None)


def _default_resolver(host: str, port: int) -> list[str]:
    answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(sockaddr[0]) for *_, sockaddr in answers))


def _split(url: str, field: str) -> tuple[str, str, int, str]:
    """Scheme, host (lower case, no trailing dot), port and path+query of an acceptable URL."""
    if len(url) > _MAX_URL_LENGTH:
        raise _refuse(field, f"must be at most {_MAX_URL_LENGTH} characters")
    if any(ord(char) <= 0x20 or ord(char) == 0x7F for char in url):
        raise _refuse(field, "must not contain spaces or control characters")
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        raise _refuse(field, "is not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES:
        raise _refuse(field, "must be an http or https URL")
    if "@" in parts.netloc:
        raise _refuse(field, "must not contain a user name or password")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise _refuse(field, "must name a host")
    if port == 0:
        raise _refuse(field, "must not use port 0")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return scheme, host, port if port is not None else _SCHEMES[scheme], path


def _resolve(host: str, port: int, resolver: Resolver | None, field: str) -> tuple[str, list[IPAddress]]:
    """The host as it will be named (literals normalised, names in IDNA) and its addresses, resolved once."""
    try:
        literal = _literal(host)
    except ValueError:
        raise _refuse(field, "has a host that is not a valid IP address") from None
    if literal is not None:
        return str(literal), [literal]
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise _refuse(field, "has a host that is not a valid host name") from None
    if not _HOST_NAME.match(host) or len(host) > 253:
        raise _refuse(field, "has a host that is not a valid host name")
    try:
        addresses = [ipaddress.ip_address(answer) for answer in (resolver or _default_resolver)(host, port)]
    except (OSError, UnicodeError, ValueError):
        raise _refuse(field, "has a host name that could not be resolved") from None
    if not addresses:
        raise _refuse(field, "has a host name that could not be resolved")
    return host, addresses


def check_url(
    url: str,
    *,
    allow_hosts: frozenset[str] = frozenset(),
    resolver: Resolver | None = None,
    field: str = "url",
) -> Target:
    """Parse `url`, resolve its host once and check every address; the checked `Target`.

    Raises ValidationError naming `field` when the URL, its host or any address is refused.
    """
    scheme, host, port, path = _split(url, field)
    host, addresses = _resolve(host, port, resolver, field)
    names, networks = _parse_allow_list(allow_hosts)
    for address in addresses:
        reason = _why_refused(address, host_allowed=host in names, networks=networks)
        if reason is not None:
            raise _refuse(field, reason)
    return Target(scheme, host, port, path, tuple(dict.fromkeys(str(a) for a in addresses)))


def check_url_shape(url: str, *, allow_hosts: frozenset[str] = frozenset(), field: str = "url") -> None:
    """The checks a URL being saved gets without resolving it (its host may not resolve from here, or may
    resolve differently when it is called): scheme, user info, host syntax, an IP-literal host in any form
    against the same ranges, and ``localhost`` names. :func:`request` checks everything again when it calls.

    Raises ValidationError naming `field`.
    """
    _, host, _, _ = _split(url, field)
    names, networks = _parse_allow_list(allow_hosts)
    try:
        literal = _literal(host)
    except ValueError:
        raise _refuse(field, "has a host that is not a valid IP address") from None
    if literal is not None:
        reason = _why_refused(literal, host_allowed=str(literal) in names, networks=networks)
        if reason is not None:
            raise _refuse(field, reason)
        return
    try:
        name = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise _refuse(field, "has a host that is not a valid host name") from None
    if not _HOST_NAME.match(name) or len(name) > 253:
        raise _refuse(field, "has a host that is not a valid host name")
    if name not in names and (name == "localhost" or name.endswith(".localhost")):
        raise _refuse(field, "points to a loopback address")


def _urllib3_opener(
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
    """One exchange with urllib3, connected to `address`, with the host name for TLS."""
    timeout = urllib3.Timeout(connect=connect_timeout, read=read_timeout)
    pool: urllib3.HTTPConnectionPool
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            address,
            target.port,
            timeout=timeout,
            retries=False,
            cert_reqs="CERT_REQUIRED",
            server_hostname=target.host,
            assert_hostname=target.host,
        )
    else:
        pool = urllib3.HTTPConnectionPool(address, target.port, timeout=timeout, retries=False)
    # A slow drip of bytes must not hold the function: one deadline over the whole read.
    deadline = time.monotonic() + connect_timeout + read_timeout
    try:
        response = pool.urlopen(
            method,
            target.path,
            body=body,
            headers=dict(headers),
            redirect=False,
            retries=False,
            preload_content=False,
            assert_same_host=False,
        )
        chunks: list[bytes] = []
        size = 0
        while size <= max_bytes:
            chunk = response.read(_CHUNK)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if time.monotonic() > deadline:
                raise OutboundError("timeout", "the remote server took too long to answer")
        reply_headers = {name.lower(): value for name, value in response.headers.itermerged()}
        return Reply(response.status, reply_headers, b"".join(chunks)[: max_bytes + 1])
    except (NewConnectionError, ConnectTimeoutError) as error:
        raise OutboundError("connect_failed", "the remote server could not be connected to") from error
    except ReadTimeoutError as error:
        raise OutboundError("timeout", "the remote server took too long to answer") from error
    except SSLError as error:
        raise OutboundError("tls_failed", "the remote server's TLS certificate could not be verified") from error
    except (HTTPError, OSError) as error:
        raise OutboundError("network_error", "the exchange with the remote server failed") from error
    finally:
        pool.close()


def _exchange(
    opener: Opener,
    target: Target,
    *,
    method: str,
    headers: Mapping[str, str],
    body: bytes | None,
    connect_timeout: float,
    read_timeout: float,
    max_bytes: int,
) -> Reply:
    """Try the checked addresses in turn while they refuse the connection (nothing was sent yet)."""
    failure = OutboundError("connect_failed", "the remote server could not be connected to")
    for address in target.addresses:
        try:
            return opener(
                target,
                address=address,
                method=method,
                headers=headers,
                body=body,
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
                max_bytes=max_bytes,
            )
        except OutboundError as error:
            if error.reason != "connect_failed":
                raise
            failure = error
    raise failure


def request(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
    allow_hosts: frozenset[str] = frozenset(),
    resolver: Resolver | None = None,
    field: str = "url",
    connect_timeout: float = 3.0,
    read_timeout: float = 10.0,
    max_bytes: int = 1 << 20,
    max_redirects: int = 3,
    opener: Opener | None = None,
) -> Response:
    """Make one outbound HTTP request to a checked address, following checked redirects.

    Raises ValidationError naming `field` for a refused URL or redirect target, and
    OutboundError for network failures, a body over `max_bytes`, or too many redirects.
    """
    started = time.monotonic()
    send = opener or _urllib3_opener
    method = method.upper()
    sent = {name: value for name, value in (headers or {}).items() if name.lower() != "host"}
    target = check_url(url, allow_hosts=allow_hosts, resolver=resolver, field=field)
    redirects = 0
    while True:
        reply = _exchange(
            send,
            target,
            method=method,
            headers={**sent, "Host": target.host_header},
            body=body,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            max_bytes=max_bytes,
        )
        location = reply.headers.get("location")
        if reply.status not in _REDIRECTS or not location:
            break
        if redirects >= max_redirects:
            raise OutboundError("too_many_redirects", f"the remote server redirected more than {max_redirects} times")
        redirects += 1
        following = urllib.parse.urljoin(target.url, location)
        try:
            new_target = check_url(following, allow_hosts=allow_hosts, resolver=resolver, field=field)
        except ValidationError as error:
            raise _refuse(field, f"redirects to a refused URL: {error.errors[0].message}") from error
        if (new_target.scheme, new_target.host, new_target.port) != (target.scheme, target.host, target.port):
            sent = {name: value for name, value in sent.items() if name.lower() not in _CREDENTIAL_HEADERS}
        if reply.status == 303 or (reply.status in {301, 302} and method == "POST"):
            method = "HEAD" if method == "HEAD" else "GET"
            body = None
            sent = {name: value for name, value in sent.items() if name.lower() not in _BODY_HEADERS}
        target = new_target
    if len(reply.body) > max_bytes:
        raise OutboundError("response_too_large", f"the response body is larger than {max_bytes} bytes")
    return Response(reply.status, reply.headers, reply.body, target.url, time.monotonic() - started)


# -- plain TCP destinations (databases) ---------------------------------------------------------------
@dataclass(frozen=True)
class Destination:
    """A checked TCP destination (a database server): connect only to `addresses`, name `host` for TLS."""

    host: str
    port: int
    addresses: tuple[str, ...]


def _refuse_host(field: str, message: str) -> ValidationError:
    return ValidationError(f"{field} is not an allowed destination", errors=[FieldProblem(field, message)])


def _host_part(host: str, port: int, field: str) -> str:
    host = host.strip().rstrip(".").lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host or len(host) > 253 or any(ord(char) <= 0x20 or ord(char) == 0x7F or char in "/@?#" for char in host):
        raise _refuse_host(field, "is not a valid host name or IP address")
    if not 1 <= port <= 65535:
        raise _refuse_host(field, "has a port that is not 1..65535")
    return host


def check_host(
    host: str,
    port: int,
    *,
    allow_hosts: frozenset[str] = frozenset(),
    resolver: Resolver | None = None,
    field: str = "host",
) -> Destination:
    """The rules of :func:`check_url` for a host and port that is not a URL (a database server): the host
    resolved once and every address checked; answers the `Destination` to connect to (its addresses only,
    never the name resolved again).

    Raises ValidationError naming `field` when the host or any of its addresses is refused.
    """
    host = _host_part(host, port, field)
    try:
        name, addresses = _resolve(host, port, resolver, field)
    except ValidationError as error:
        raise _refuse_host(field, error.errors[0].message) from None
    names, networks = _parse_allow_list(allow_hosts)
    for address in addresses:
        reason = _why_refused(address, host_allowed=name in names, networks=networks)
        if reason is not None:
            raise _refuse_host(field, reason)
    return Destination(name, port, tuple(dict.fromkeys(str(a) for a in addresses)))


def check_host_shape(host: str, *, allow_hosts: frozenset[str] = frozenset(), field: str = "host") -> None:
    """The save-time checks of a host that need no DNS (as :func:`check_url_shape`): its syntax, an IP literal
    in any form against the same ranges, and ``localhost`` names. :func:`check_host` checks all again when a
    connection is made. Raises ValidationError naming `field`."""
    host = _host_part(host, 1, field)
    names, networks = _parse_allow_list(allow_hosts)
    try:
        literal = _literal(host)
    except ValueError:
        raise _refuse_host(field, "is not a valid IP address") from None
    if literal is not None:
        reason = _why_refused(literal, host_allowed=str(literal) in names, networks=networks)
        if reason is not None:
            raise _refuse_host(field, reason)
        return
    try:
        name = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise _refuse_host(field, "is not a valid host name") from None
    if not _HOST_NAME.match(name):
        raise _refuse_host(field, "is not a valid host name")
    if name not in names and (name == "localhost" or name.endswith(".localhost")):
        raise _refuse_host(field, "points to a loopback address")
