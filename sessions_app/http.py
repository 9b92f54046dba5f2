"""Answers in JSON, for the pages' chart and status data and for the API alike: one encoder
(orjson), so every JSON answer is built the same way. Low in the layers, so the API can use it."""

import orjson
from django.http import HttpResponse

JSON = "application/json"
# Keys that are not strings (dates, numbers) become strings; numpy arrays in chart data, lists.
_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


def json_bytes(payload) -> bytes:
    return orjson.dumps(payload, option=_OPTIONS)


def json_response(payload, status: int = 200) -> HttpResponse:
    """`payload` encoded; bytes are sent as they are (a body encoded earlier, say from a cache)."""
    body = payload if isinstance(payload, bytes) else json_bytes(payload)
    return HttpResponse(body, status=status, content_type=JSON)
