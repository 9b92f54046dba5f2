"""Answer bodies: JSON ({"d": ...} with the seed's "__type" members) and form-POST XML."""

import orjson

from . import defaults

_XML_HEAD = (
    '<?xml version="1.0" encoding="utf-8"?>\n<{root} xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns="' + defaults.XML_NAMESPACE + '">'
)


def json_page(next_id, groups):
    users = [dict(user, sessions=[s for s, _ in items]) for user, items in groups]
    return orjson.dumps({"d": {"__type": defaults.TYPE_GROUP, "nextId": next_id, "users": users}})


def json_counts(counts):
    return orjson.dumps({"d": [{"__type": defaults.TYPE_COUNT, **c} for c in counts]})


def json_error(message, exception_type):
    return orjson.dumps({"Message": message, "StackTrace": "", "ExceptionType": exception_type})


def _esc(v):
    if v is True or v is False:
        return "true" if v else "false"
    return str(v).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _el(out, tag, value):
    if value is not None:  # XmlSerializer leaves null elements out
        out.append(f"<{tag}>{_esc(value)}</{tag}>")


def _session_xml(out, session, extras):
    out.append("<session>")
    for tag in (
        "id",
        "type",
        "status",
        "startTime",
        "key",
        "width",
        "height",
        "duration",
        "kbytes",
        "isReverse",
    ):
        _el(out, tag, session[tag])
    out.append("<guests>")
    for g, (client, proto, error) in zip(session["guests"], extras, strict=True):
        out.append("<guest>")
        for tag in ("type", "status", "startTime", "duration", "kbytes", "ip"):
            _el(out, tag, g[tag])
        _el(out, "clientVersion", client)
        _el(out, "protocolVersion", proto)
        loc = g["location"]
        if loc is not None:
            out.append("<location>")
            for tag in ("city", "region", "countryCode"):
                _el(out, tag, loc[tag])
            out.append("</location>")
        for tag in ("name", "email", "phone"):
            _el(out, tag, g[tag])
        _el(out, "error", error)
        out.append("</guest>")
    out.append("</guests></session>")


def xml_page(next_id, groups):
    out = [_XML_HEAD.format(root="groupSessions"), f"<nextId>{next_id}</nextId><users>"]
    for user, items in groups:
        out.append("<userSessions>")
        for tag in ("userName", "partnerUserId", "validUser", "invalidReason"):
            _el(out, tag, user[tag])
        out.append("<sessions>")
        for session, extras in items:
            _session_xml(out, session, extras)
        out.append("</sessions></userSessions>")
    out.append("</users></groupSessions>")
    return "".join(out).encode()


def xml_counts(counts):
    out = [_XML_HEAD.format(root="ArrayOfSessionCount")]
    for c in counts:
        out.append("<sessionCount>")
        for tag in ("type", "status", "count", "averageDuration"):
            _el(out, tag, c[tag])
        out.append("</sessionCount>")
    out.append("</ArrayOfSessionCount>")
    return "".join(out).encode()
