"""Client-side helpers for tests and demos: call an operation over real HTTP like a client."""

import http.client
import json
import urllib.error
import urllib.request
from urllib.parse import urlencode

from . import defaults

XML_NS = {"g": defaults.XML_NAMESPACE}


def call(url, op, params, mode="json", timeout=10, method="POST"):
    """POST one operation -> (status, lower-cased headers, body bytes); mode "json" or "form"."""
    if mode == "json":
        data, ctype = json.dumps(params).encode(), "application/json; charset=utf-8"
    else:
        data, ctype = urlencode(params).encode(), "application/x-www-form-urlencoded"
    req = urllib.request.Request(  # noqa: S310 (the simulator's own http URL)
        f"{url}/{op}" if op else url,
        data=data if method == "POST" else None,
        headers={"Content-Type": ctype},
        method=method,
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:  # noqa: S310
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def completed_params(start, end, partner_id=12345, api_key="demo-key", n=1000, next_id=0, key=""):
    return {
        "partnerId": partner_id,
        "apiKey": api_key,
        "startRange": start,
        "endRange": end,
        "sessionKey": key,
        "nResults": n,
        "nextId": next_id,
    }


def counts_params(start, end, partner_id=12345, api_key="demo-key", type="", status="C"):
    return {
        "partnerId": partner_id,
        "apiKey": api_key,
        "type": type,
        "status": status,
        "startRange": start,
        "endRange": end,
    }


def fetch_pages(url, params):
    """Follow nextId to the end; return the list of decoded "d" objects."""
    params, pages = dict(params), []
    while True:
        status, _, body = call(url, "PartnerCompletedSessions", params)
        if status != 200:
            raise AssertionError(f"HTTP {status}: {body[:300]!r}")
        d = json.loads(body)["d"]
        pages.append(d)
        if not d["nextId"]:
            return pages
        params["nextId"] = d["nextId"]


def control(server, action, payload=None):
    """POST /_sim/<action> (faults, reset, bump) -> decoded JSON."""
    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
    try:
        conn.request(
            "POST",
            f"/_sim/{action}",
            body=json.dumps(payload or {}),
            headers={"Content-Type": "application/json"},
        )
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()
