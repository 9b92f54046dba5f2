"""The one outbound-request policy. Every request the server makes (the Glance client and so the
sync, the connection test and the wallboard's live counts, and alert webhooks) goes through a
`session()` from here, so a URL someone typed into a form cannot make the server call inside
its own network:

- The host is resolved once and every address it names must be public: loopback, private,
  link-local (169.254.0.0/16, fe80::/10), shared, multicast, unspecified and reserved addresses
  are refused, over IPv4 and IPv6 (an IPv4 address carried in IPv6, mapped, 6to4 or Teredo,
  counts as that IPv4 one). The socket then connects to the address that was checked, not to a
  second lookup of the name (DNS rebinding), and the peer it reached is checked once more.
  Refusing before connecting also means an internal port's state (open, closed, another
  service) never shows in the answer, nor does the address a name resolved to.
- OUTBOUND_ALLOWED_ADDRESSES lists networks allowed all the same: in development, loopback, for
  the local simulator; in production, nothing unless an operator adds it.
- No redirect is followed: Glance's API needs none, and a redirect is how a public URL leads to
  an internal one, or sends a POST (an API key in its body) to another host.
- What went wrong is said in our own words (`OutboundRefused`), never with a foreign answer's text.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_resolve = socket.getaddrinfo  # the name service: the one thing a test may stand in for


class OutboundRefused(Exception):
    """The policy refused a request; the message says why, in our words only. Not an OSError,
    so no HTTP library mistakes it for a network fault to retry."""


def refusal(address: IPAddress) -> str | None:
    """Why the server may not call this address ("a loopback address"), or None where it may."""
    if address.version == 6 and address.ipv4_mapped:  # ::ffff:a.b.c.d is a.b.c.d
        address = address.ipv4_mapped
    if any(address in network for network in allowed_networks()):
        return None
    for carried in _carried_ipv4(address):
        reason = refusal(carried)
        if reason:
            return reason
    for kind, test in _KINDS:
        if test(address):
            return f"a {kind} address"
    if not address.is_global:
        return "not a public address"
    return None


def _carried_ipv4(address: IPAddress) -> list:
    """The IPv4 addresses an IPv6 one carries (6to4, Teredo): each is checked too."""
    if address.version != 6:
        return []
    carried = [address.sixtofour]
    if address.teredo:
        carried += list(address.teredo)
    return [ip for ip in carried if ip is not None]


_KINDS = [
    ("loopback", lambda a: a.is_loopback),
    ("private", lambda a: a.is_private and not a.is_loopback and not a.is_link_local),
    ("link-local", lambda a: a.is_link_local),
    ("multicast", lambda a: a.is_multicast),
    ("unspecified", lambda a: a.is_unspecified),
    ("reserved", lambda a: a.is_reserved),
]


def allowed_networks() -> list:
    return [ipaddress.ip_network(net, strict=False) for net in settings.OUTBOUND_ALLOWED_ADDRESSES]


def check_address(text: str, host: str) -> None:
    address = ipaddress.ip_address(text.split("%", 1)[0])  # an IPv6 scope id is no part of it
    reason = refusal(address)
    if reason:
        raise OutboundRefused(
            f"refused to call {host}: it is {reason}; glancedash calls public addresses only "
            "(OUTBOUND_ALLOWED_ADDRESSES lists exceptions)"
        )


def checked_address(host: str, port: int) -> str:
    """The address to connect to: the first the name resolves to, once every one of them has
    been found allowed, before any connection is made."""
    try:
        infos = _resolve(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise OutboundRefused(f"cannot resolve {host} (unknown host)") from exc
    for info in infos:
        check_address(info[4][0], host)
    return infos[0][4][0]


class _Checked:
    """Connects to the address that was checked (TLS still names the host), and checks the peer
    it reached."""

    def _new_conn(self):
        host = self._dns_host
        self._dns_host = checked_address(host, self.port)  # urllib3 connects to _dns_host
        try:
            sock = super()._new_conn()
        finally:
            self._dns_host = host
        try:
            check_address(sock.getpeername()[0], host)
        except OutboundRefused:
            sock.close()
            raise
        return sock


class CheckedHTTPConnection(_Checked, HTTPConnection):
    pass


class CheckedHTTPSConnection(_Checked, HTTPSConnection):
    pass


class _CheckedHTTPPool(HTTPConnectionPool):
    ConnectionCls = CheckedHTTPConnection


class _CheckedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = CheckedHTTPSConnection


class CheckedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _CheckedHTTPPool,
            "https": _CheckedHTTPSPool,
        }


class Session(requests.Session):
    """A requests session under the policy: checked connections, no redirects, no proxies or
    credentials from the environment (a proxy's address would be the one connected to)."""

    def __init__(self):
        super().__init__()
        self.trust_env = False
        for scheme in ("http://", "https://"):
            self.mount(scheme, CheckedAdapter())

    def request(self, method, url, **kwargs):
        kwargs["allow_redirects"] = False
        response = super().request(method, url, **kwargs)
        if response.is_redirect or response.status_code in (301, 302, 303, 307, 308):
            response.close()
            raise OutboundRefused(  # the host alone: a URL's userinfo may hold a secret
                f"{urlsplit(url).hostname} answered with a redirect "
                f"(HTTP {response.status_code}); glancedash follows none"
            )
        return response


def session() -> Session:
    return Session()


STATUS_WORDS = {
    400: "bad request",
    401: "not authorised",
    403: "forbidden",
    404: "not found",
    405: "method not allowed",
    408: "request timeout",
    429: "too many requests",
    500: "server error",
    502: "bad gateway",
    503: "service unavailable",
    504: "gateway timeout",
}


def status_words(code: int) -> str:
    """An HTTP status in our words: 'HTTP 404, not found'."""
    kind = STATUS_WORDS.get(code) or {4: "client error", 5: "server error"}.get(code // 100, "")
    return f"HTTP {code}" + (f", {kind}" if kind else "")
