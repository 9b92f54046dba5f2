"""The two operations: bind parameters the ASMX way, authenticate, check the range, query."""

from datetime import timedelta

from . import defaults
from .dates import parse_date
from .simulator import ApiFault

COMPLETED, COUNTS = "PartnerCompletedSessions", "PartnerSessionCounts"


def missing_parameter(op, params):
    for name in defaults.OPERATIONS[op]:
        if name not in params:
            return name
    return None


def _int(params, name):
    v = params[name]
    if isinstance(v, int) and not isinstance(v, bool):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, str):
        try:
            return int(v.strip())
        except ValueError:
            pass
    raise ApiFault(defaults.BAD_INT_MESSAGE.format(value=v), defaults.BAD_INT_EXCEPTION)


def _str(params, name):
    v = params[name]
    return "" if v is None else str(v)


def _dates(params):
    try:
        start, end = parse_date(params["startRange"]), parse_date(params["endRange"])
    except (ValueError, OverflowError):
        raise ApiFault(defaults.BAD_DATE_MESSAGE, defaults.BAD_DATE_EXCEPTION) from None
    return start, end


def _partner(sim, pid, api_key):
    if sim.faults.auth_failure or sim.authenticate(pid, api_key) is None:
        if defaults.AUTH_FAILURE_MODE == "empty":
            return None
        raise ApiFault(defaults.AUTH_MESSAGE, defaults.AUTH_EXCEPTION)
    return pid


def _check_range(start, end):
    if end - start > timedelta(days=defaults.MAX_RANGE_DAYS):
        raise ApiFault(defaults.RANGE_MESSAGE, defaults.RANGE_EXCEPTION)


def completed_sessions(sim, params):
    """-> (nextId, groups) as Simulator.page returns them."""
    pid, api_key = _int(params, "partnerId"), _str(params, "apiKey")
    start, end = _dates(params)
    session_key, n, next_id = (
        _str(params, "sessionKey"),
        _int(params, "nResults"),
        _int(params, "nextId"),
    )
    if _partner(sim, pid, api_key) is None:
        return 0, []
    _check_range(start, end)
    if end <= start:
        return 0, []
    n = sim.max_results if n <= 0 else min(n, sim.max_results)
    return sim.page(pid, start.timestamp(), end.timestamp(), session_key, n, next_id)


def session_counts(sim, params):
    pid, api_key = _int(params, "partnerId"), _str(params, "apiKey")
    typ, status = _str(params, "type"), _str(params, "status")
    start, end = _dates(params)
    if _partner(sim, pid, api_key) is None:
        return []
    _check_range(start, end)
    if end <= start:
        return []
    return sim.session_counts(pid, start.timestamp(), end.timestamp(), typ, status)
