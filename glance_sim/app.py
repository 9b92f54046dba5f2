"""WSGI app: the ASMX endpoint (JSON and form-POST), fault injection, the /_sim control API."""

import http
import time
from urllib.parse import parse_qs

import orjson

from . import api, defaults, render
from .faults import PAGE_KINDS, RequestRecord
from .simulator import ApiFault

JSON_CT = "application/json; charset=utf-8"
XML_CT = "text/xml; charset=utf-8"
TEXT_CT = "text/plain; charset=utf-8"
HTML_CT = "text/html; charset=utf-8"
FORM = "application/x-www-form-urlencoded"


class DropConnection(ConnectionAbortedError):
    """wsgiref's handler swallows ConnectionAbortedError without writing a byte, so the peer
    just sees the socket close: the endpoint "going away". Other servers (gunicorn) answer 500."""


def _reason(status):
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _read(environ):
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return environ["wsgi.input"].read(length) if length > 0 else b""


def _fault(json_mode, message, exception_type):
    if json_mode:
        return (
            500,
            [("Content-Type", JSON_CT), ("jsonerror", "true")],
            render.json_error(message, exception_type),
        )
    return 500, [("Content-Type", TEXT_CT)], f"{exception_type}: {message}".encode()


def _parse(body, media):
    """-> (params, None) or (None, ApiFault)."""
    if media == "application/json":
        try:
            params = orjson.loads(body) if body.strip() else {}
        except orjson.JSONDecodeError:
            params = None
        if not isinstance(params, dict):
            snippet = body[:20].decode("utf-8", "replace")
            return None, ApiFault(
                defaults.BAD_JSON_MESSAGE.format(snippet=snippet), defaults.BAD_JSON_EXCEPTION
            )
        return params, None
    if media in (FORM, ""):
        pairs = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        return {k: v[0] for k, v in pairs.items()}, None
    return None, ApiFault(
        defaults.BAD_FORMAT_MESSAGE.format(content_type=media), defaults.BAD_FORMAT_EXCEPTION
    )


def _operation(sim, op, params, json_mode, page_fault=None):
    name = api.missing_parameter(op, params)
    if name:
        template = defaults.MISSING_PARAM_JSON if json_mode else defaults.MISSING_PARAM_FORM
        return _fault(json_mode, template.format(name=name), defaults.MISSING_PARAM_EXCEPTION)
    if op == api.COMPLETED:
        next_id, groups = api.completed_sessions(sim, params)
        if page_fault == "empty_page":
            groups = []
        elif page_fault == "repeat_last" and groups:
            next_id = max(session["id"] for _, items in groups for session, _ in items)
        body = render.json_page(next_id, groups) if json_mode else render.xml_page(next_id, groups)
    else:
        counts = api.session_counts(sim, params)
        body = render.json_counts(counts) if json_mode else render.xml_counts(counts)
    return 200, [("Content-Type", JSON_CT if json_mode else XML_CT)], body


def _malformed(kind, body, json_mode):
    if kind == "not_json":
        return [("Content-Type", HTML_CT)], defaults.MALFORMED_HTML.encode()
    if kind == "wrong_content_type":
        return [("Content-Type", HTML_CT)], body
    ctype = JSON_CT if json_mode else XML_CT
    if kind == "wrong_shape":
        return [
            ("Content-Type", ctype)
        ], b'{"d":{"unexpected":1}}' if json_mode else b"<unexpected>1</unexpected>"
    return [("Content-Type", ctype)], body[: max(1, len(body) // 2)]


def _endpoint(sim, method, path, environ):
    i = path.lower().find(defaults.ENDPOINT_PATH.lower())
    if i < 0:
        return 404, [("Content-Type", TEXT_CT)], b"Not Found"
    op = path[i + len(defaults.ENDPOINT_PATH) :].strip("/")
    media = (environ.get("CONTENT_TYPE") or "").split(";")[0].strip().lower()
    json_mode = media == "application/json"
    body = _read(environ)
    if method != "POST" or op not in defaults.OPERATIONS:
        if method == "GET" and op in defaults.OPERATIONS and json_mode:
            answer = _fault(True, defaults.GET_MESSAGE.format(op=op), defaults.GET_EXCEPTION)
        else:
            answer = _fault(
                json_mode, defaults.UNKNOWN_OP_MESSAGE.format(op=op), defaults.UNKNOWN_OP_EXCEPTION
            )
        sim.log(RequestRecord(op, {}, answer[0], media))
        return answer

    params, parse_error = _parse(body, media)
    faults = sim.faults
    if faults.latency > 0:
        time.sleep(faults.latency)
    completed = op == api.COMPLETED
    call_no, drop, inject = sim.admit_call(completed, faults)
    malformed_call = completed and call_no in faults.malformed_calls
    try:
        if drop:
            sim.log(RequestRecord(op, params or {}, 0, media))
            raise DropConnection("fail_after_calls")
        if inject:
            status = faults.error_status
            headers = [("Content-Type", HTML_CT)]
            if faults.retry_after is not None:
                headers.append(("Retry-After", str(faults.retry_after)))
            answer = (
                status,
                headers,
                defaults.INJECTED_ERROR_BODY.format(status=status, reason=_reason(status)).encode(),
            )
        elif parse_error is not None:
            answer = _fault(json_mode, parse_error.message, parse_error.exception_type)
        else:
            page_fault = faults.malformed_kind if malformed_call else None
            try:
                answer = _operation(sim, op, params, json_mode, page_fault)
            except ApiFault as e:
                answer = _fault(json_mode, e.message, e.exception_type)
        if completed and answer[0] == 200:
            if malformed_call and faults.malformed_kind not in PAGE_KINDS:
                answer = (200, *_malformed(faults.malformed_kind, answer[2], json_mode))
            sim.completed_succeeded()
        sim.log(RequestRecord(op, params or {}, answer[0], media))
        return answer
    finally:
        if faults.mutate_between_calls:
            sim.bump_version()


def _control(sim, method, path, environ):
    body = _read(environ)
    action = path[len("/_sim/") :].strip("/")
    ok = (200, [("Content-Type", JSON_CT)])
    if action == "health":
        return 200, [("Content-Type", TEXT_CT)], b"ok"
    if action == "faults" and method == "GET":
        return (*ok, orjson.dumps(sim.faults.as_dict()))
    if method != "POST":
        return 405, [("Content-Type", TEXT_CT)], b"POST only"
    if action == "faults":
        try:
            values = orjson.loads(body or b"{}")
            sim.faults.update(values)
        except (orjson.JSONDecodeError, AttributeError, KeyError, TypeError, ValueError) as e:
            return 400, [("Content-Type", TEXT_CT)], f"bad faults: {e!r}".encode()
        return (*ok, orjson.dumps(sim.faults.as_dict()))
    if action == "reset":
        sim.reset()
        return (*ok, b'{"ok":true}')
    if action == "bump":
        return (*ok, orjson.dumps({"version": sim.bump_version()}))
    return 404, [("Content-Type", TEXT_CT)], b"unknown control action"


def create_app(sim):
    """The WSGI callable (serve_in_thread uses it; gunicorn can too)."""

    def app(environ, start_response):
        path, method = environ.get("PATH_INFO") or "/", environ.get("REQUEST_METHOD", "GET")
        handler = _control if path.startswith("/_sim/") else _endpoint
        with sim.handling():
            status, headers, body = handler(sim, method, path, environ)
        headers.append(("Content-Length", str(len(body))))
        start_response(f"{status} {_reason(status)}", headers)
        return [body]

    return app
