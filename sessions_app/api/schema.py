"""The API's OpenAPI 3 schema, served at /api/openapi.json. The filter parameters are described
from SessionFilter itself, so the schema and the pages cannot drift apart."""

from sessions_app import codes, waiting
from sessions_app.api.endpoints import GROUPINGS, MAX_PAGE_SIZE
from sessions_app.figures.filters import OUTCOMES, PRESETS

_FILTERS = {
    "preset": {"type": "string", "enum": [key for key, _ in PRESETS]},
    "start": {"type": "string", "format": "date"},
    "end": {"type": "string", "format": "date"},
    "partner": {"type": "array", "items": {"type": "integer", "minimum": 1}},
    "type": {"type": "array", "items": {"type": "string", "enum": list(codes.SESSION_TYPES)}},
    "status": {"type": "array", "items": {"type": "string", "pattern": "^[A-Za-z]+$"}},
    "outcome": {"type": "string", "enum": ["", *[key for key, _ in OUTCOMES]]},
    "agent": {"type": "array", "items": {"type": "integer", "minimum": 1}},
    "team": {"type": "array", "items": {"type": "integer", "minimum": 1}},
    "country": {"type": "string", "pattern": "^([A-Za-z]{2})?$"},
    "region": {"type": "string", "maxLength": 100},
    "city": {"type": "string", "maxLength": 200},
    "min_duration": {"type": "integer", "minimum": 0, "maximum": 10**9},
    "max_duration": {"type": "integer", "minimum": 0, "maximum": 10**9},
    "min_wait": {"type": "integer", "minimum": 0, "maximum": 10**9, "description": "seconds"},
    "max_wait": {"type": "integer", "minimum": 0, "maximum": 10**9, "description": "seconds"},
    "key": {"type": "string", "maxLength": 255},
    "has_error": {"type": "string", "enum": ["true", "false", "unknown"]},
    "q": {
        "type": "string",
        "maxLength": 200,
        "description": "guest name, email or phone; analysts",
    },
    "weekday": {"type": "integer", "minimum": 1, "maximum": 7, "description": "1 = Monday"},
    "hour": {"type": "integer", "minimum": 0, "maximum": 23},
}

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {"type": "string"},
        "fields": {"type": "object", "additionalProperties": {"type": "array"}},
    },
}

_FILTER_ECHO = {
    "type": "object",
    "required": ["parameters", "time_zone", "first_day", "last_day"],
    "properties": {
        "parameters": {"type": "object"},
        "time_zone": {"type": "string"},
        "first_day": {"type": "string", "format": "date"},
        "last_day": {"type": "string", "format": "date"},
    },
}

_GUEST_TEXT = [
    "type",
    "status",
    "city",
    "region",
    "country",
    "client",
    "error",
    "name",
    "email",
    "phone",
    "ip",
]
_GUEST = {
    "type": "object",
    "properties": {name: {"type": "string", "nullable": True} for name in _GUEST_TEXT}
    | {"duration": {"type": "integer", "nullable": True}},
}

_WAITING_OUTCOMES = [
    waiting.IN_TIME, waiting.LATE, waiting.UNKNOWN, waiting.ABANDONED, "",
]  # fmt: skip

_SESSION = {
    "type": "object",
    "required": ["id", "partner", "glance_id", "type", "status", "start", "end", "guests"],
    "properties": {
        "id": {"type": "integer"},
        "partner": {"type": "string"},
        "glance_id": {"type": "integer"},
        "type": {"type": "string"},
        "status": {"type": "string"},
        "start": {"type": "string", "format": "date-time"},
        "end": {"type": "string", "format": "date-time"},
        "duration": {"type": "integer"},
        "time_to_join": {
            "type": "integer",
            "nullable": True,
            "description": "seconds from the first arrival to the other side's; null: unknown",
        },
        "waiting_outcome": {"type": "string", "enum": _WAITING_OUTCOMES},
        "key": {"type": "string", "nullable": True},
        "agent": {"type": "string", "nullable": True, "description": "Glance user name"},
        "agent_name": {"type": "string", "nullable": True, "description": "as the pages name"},
        "team": {"type": "string", "nullable": True},
        "guests": {"type": "array", "items": {"$ref": "#/components/schemas/Guest"}},
    },
}

_AGGREGATE_ROW = {
    "type": "object",
    "required": ["key"],
    "properties": {
        "key": {"type": "string", "nullable": True},
        "sessions": {"type": "integer", "nullable": True},  # null: visitors with no country
        "connected": {"type": "integer"},
        "guests": {"type": "integer"},
        "seconds": {"type": "integer"},
        "team_id": {"type": "integer", "nullable": True, "description": "by team"},
        "partner": {"type": "string", "nullable": True, "description": "by team: its partner"},
        # Waiting (not in rows by country): each partner's sessions held to its own target.
        "answered": {"type": "integer"},
        "abandoned": {"type": "integer"},
        "answered_in_time": {"type": "integer"},
        "answered_wait_unknown": {"type": "integer"},
        "service_level": {"type": "number", "nullable": True, "description": "percent"},
        "abandoned_rate": {"type": "number", "nullable": True, "description": "percent"},
        "median_time_to_join": {"type": "integer", "nullable": True},
        "p90_time_to_join": {"type": "integer", "nullable": True},
    },
}


def _parameter(name: str, schema: dict) -> dict:
    parameter = {"name": name, "in": "query", "required": False, "schema": schema}
    if schema["type"] == "array":
        parameter |= {"style": "form", "explode": True}
    return parameter


def _answers(ok_schema: dict) -> dict:
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    return {
        "200": {"description": "OK", "content": {"application/json": {"schema": ok_schema}}},
        "400": {"description": "a parameter is wrong; `fields` names it", "content": error},
        "401": {"description": "no token, or an unknown or revoked one", "content": error},
    }


def openapi_schema(server_url: str) -> dict:
    filters = [_parameter(name, schema) for name, schema in _FILTERS.items()]
    by = _parameter("by", {"type": "string", "enum": list(GROUPINGS), "default": "day"})
    cursor = _parameter("cursor", {"type": "string"})
    limit = _parameter("limit", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE})
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "glancedash API",
            "version": "1",
            "description": "Read-only: Glance sessions as the token's user may see them.",
        },
        "servers": [{"url": server_url}],
        "security": [{"token": []}],
        "components": {
            "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": _ERROR, "Guest": _GUEST, "Session": _SESSION},
        },
        "paths": {
            "/aggregates": {
                "get": {
                    "summary": "Sessions, connected sessions, guests and seconds per group",
                    "parameters": [by, *filters],
                    "responses": _answers(
                        {
                            "type": "object",
                            "required": ["by", "filter", "rows"],
                            "properties": {
                                "by": {"type": "string"},
                                "filter": _FILTER_ECHO,
                                "rows": {"type": "array", "items": _AGGREGATE_ROW},
                            },
                        }
                    ),
                }
            },
            "/sessions": {
                "get": {
                    "summary": "Sessions with their guests, newest first, a page at a time",
                    "parameters": [cursor, limit, *filters],
                    "responses": _answers(
                        {
                            "type": "object",
                            "required": ["filter", "results", "next"],
                            "properties": {
                                "filter": _FILTER_ECHO,
                                "results": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/Session"},
                                },
                                "next": {"type": "string", "nullable": True},
                            },
                        }
                    ),
                }
            },
        },
    }
