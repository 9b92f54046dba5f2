"""The client's address: one rule for the login throttle (django-axes), the password-reset
throttle and the audit trail.

Behind a reverse proxy every request comes from the proxy's address, so five failed logins by
anyone would lock a user out for everyone. With TRUSTED_PROXIES naming the proxies (addresses or
networks), a request that comes from one of them is taken to be from the address the proxies
wrote into CLIENT_ADDRESS_HEADER (X-Forwarded-For by default): read right to left, the first
address that is not itself a trusted proxy. A request from anywhere else is taken at its own
REMOTE_ADDR, whatever headers it carries: a client can write any X-Forwarded-For it likes.
"""

import ipaddress

from django.conf import settings


def client_address(request) -> str | None:
    if request is None:
        return None
    remote = request.META.get("REMOTE_ADDR")
    if not _trusted(remote):
        return remote
    header = "HTTP_" + settings.CLIENT_ADDRESS_HEADER.upper().replace("-", "_")
    hops = [hop.strip() for hop in request.META.get(header, "").split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop):
            return hop if _address(hop) else remote
    return remote


def _trusted(text: str | None) -> bool:
    address = _address(text)
    if address is None:
        return False
    return any(
        address in ipaddress.ip_network(net, strict=False) for net in settings.TRUSTED_PROXIES
    )


def _address(text: str | None):
    try:
        return ipaddress.ip_address((text or "").strip())
    except ValueError:
        return None
