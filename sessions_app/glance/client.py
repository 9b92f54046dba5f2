"""The Glance Activity Service client, over the one outbound-request policy (outbound.py).

JSON mode exactly as the seed document shows it: POST `<endpoint>/<Operation>` with a JSON body,
the answer under `{"d": …}`. Every call has timeouts; connection errors, 429 and 5xx are retried
with exponential backoff and jitter (honouring Retry-After); authentication failures are not.
Whatever goes wrong ends as one GlanceError naming the partner, the operation and, in our own
words, what happened: the status code and a category, never text from the answer (an endpoint
that is not Glance's could be anything). The API key is sent in the body only, to the address it
was entered for: no redirect is followed.
"""

import logging
import random
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

import orjson
import requests
from django.conf import settings
from django.utils import timezone

from sessions_app import outbound
from sessions_app.glance.records import (
    Page,
    RecordError,
    SessionCount,
    SessionRecord,
    counts_from_answer,
    cursor_of,
    page_from_answer,
)

if TYPE_CHECKING:
    from sessions_app.models import Partner

log = logging.getLogger(__name__)

COMPLETED_SESSIONS = "PartnerCompletedSessions"
SESSION_COUNTS = "PartnerSessionCounts"

# Glance does not document its authentication failure; these are the words it and ASMX use.
_AUTH_WORDS = re.compile(
    r"api ?key|partner ?id|unauthori[sz]ed|not authori[sz]ed|authenticat|credential|access denied",
    re.IGNORECASE,
)
# ASMX exception types that mean the request itself was wrong: retrying cannot help.
_REQUEST_FAULTS = ("ArgumentException", "FormatException", "InvalidOperationException")
_RETRY_STATUSES = {429, 500, 502, 503, 504}


class GlanceError(Exception):
    """A call to the Activity Service failed; the message is meant for an operator."""

    def __init__(self, detail: str, *, partner: str = "", operation: str = "") -> None:
        self.detail = detail
        self.partner = partner
        self.operation = operation
        where = " ".join(part for part in (partner, operation) if part)
        super().__init__(f"{where}: {detail}" if where else detail)


class GlanceAuthError(GlanceError):
    """The partner id or API key was refused."""


class GlanceUnavailable(GlanceError):
    """The service could not be reached or kept failing after every retry."""


class GlanceBadResponse(GlanceError):
    """The service answered, but not with what the operation returns."""


def format_range_value(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def split_windows(start: datetime, end: datetime, days: int) -> list[tuple[datetime, datetime]]:
    """[start, end) cut into consecutive windows of at most `days` (the service's range cap)."""
    windows, step = [], timedelta(days=days)
    while start < end:
        windows.append((start, min(start + step, end)))
        start = windows[-1][1]
    return windows


class GlanceClient:
    def __init__(
        self,
        endpoint: str,
        partner_id: int,
        api_key: str,
        *,
        label: str = "",
        sleep: Callable[[float], None] = time.sleep,
        max_retries: int | None = None,
        timeout: tuple[float, float] | None = None,
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.partner_id = int(partner_id)
        self._api_key = api_key
        self.label = label or f"partner {partner_id}"
        self.http = outbound.session()
        self.http.headers["User-Agent"] = "glancedash (+https://github.com/glancedash)"
        self.sleep = sleep
        self.timeout = timeout or (settings.GLANCE_CONNECT_TIMEOUT, settings.GLANCE_READ_TIMEOUT)
        self.max_retries = settings.GLANCE_MAX_RETRIES if max_retries is None else max_retries
        self.backoff_base = settings.GLANCE_BACKOFF_BASE
        self.backoff_max = settings.GLANCE_BACKOFF_MAX

    @classmethod
    def for_partner(cls, partner: "Partner", **kwargs: Any) -> "GlanceClient":
        return cls(
            partner.api_url,
            partner.glance_partner_id,
            partner.api_key,
            label=f"{partner.name} ({partner.glance_partner_id})",
            **kwargs,
        )

    def __repr__(self) -> str:  # never the key
        return f"<GlanceClient {self.label} {self.endpoint}>"

    # --- operations -----------------------------------------------------------------------

    def completed_session_pages(
        self, start: datetime, end: datetime, *, session_key: str = "", page_size: int = 0
    ) -> Iterator[Page]:
        """PartnerCompletedSessions for [start, end) (at most the range cap), page by page."""
        for answer in self.completed_session_answers(
            start, end, session_key=session_key, page_size=page_size
        ):
            yield answer.page()

    def completed_session_answers(
        self, start: datetime, end: datetime, *, session_key: str = "", page_size: int = 0
    ) -> Iterator["Answer"]:
        """The same pages as they came, each read only as far as its cursor; `page()` reads its
        records. A sync fetches these in a read-ahead thread and reads the records in its own:
        reading records holds the GIL for milliseconds, and a thread doing that beside one
        writing to SQLite (which lets go of the GIL for every row) halved the writes."""
        params = {
            "startRange": format_range_value(start),
            "endRange": format_range_value(end),
            "sessionKey": session_key,
            "nResults": page_size or settings.GLANCE_PAGE_SIZE,
            "nextId": 0,
        }
        seen_cursors = set()
        while True:
            answer = Answer(self, self.call(COMPLETED_SESSIONS, params))
            yield answer
            if not answer.next_id:
                return
            if answer.next_id in seen_cursors:
                raise self._error(
                    GlanceBadResponse,
                    COMPLETED_SESSIONS,
                    f"paging loops: nextId {answer.next_id} came back twice",
                )
            seen_cursors.add(answer.next_id)
            params["nextId"] = answer.next_id

    def completed_sessions(
        self, start: datetime, end: datetime, **kwargs: Any
    ) -> list[SessionRecord]:
        """Every completed session in [start, end), any length of range, merged across pages and
        windows; a session seen twice (the data moves while we page) is kept once, latest wins."""
        merged: dict[int, SessionRecord] = {}
        for window_start, window_end in split_windows(start, end, settings.GLANCE_WINDOW_DAYS):
            for page in self.completed_session_pages(window_start, window_end, **kwargs):
                merged.update((session.glance_id, session) for session in page.sessions)
        return sorted(merged.values(), key=lambda s: (s.start_time, s.glance_id))

    def session_counts(
        self, start: datetime, end: datetime, *, session_type: str = "", status: str = "C"
    ) -> list[SessionCount]:
        params = {
            "type": session_type,
            "status": status,
            "startRange": format_range_value(start),
            "endRange": format_range_value(end),
        }
        return self._parse(SESSION_COUNTS, counts_from_answer, self.call(SESSION_COUNTS, params))

    # --- transport ------------------------------------------------------------------------

    def call(self, operation: str, params: dict) -> bytes:
        """POSTs one operation and returns the raw 200 body, after retries where they help."""
        body = orjson.dumps({"partnerId": self.partner_id, "apiKey": self._api_key, **params})
        url = f"{self.endpoint}/{operation}"
        headers = {"Content-Type": "application/json", "Accept": "application/json"}  # as the seed
        for attempt in range(self.max_retries + 1):
            last_try = attempt == self.max_retries
            try:
                response = self.http.post(url, data=body, headers=headers, timeout=self.timeout)
            except outbound.OutboundRefused as exc:  # the policy's no is final: no retry
                raise self._error(GlanceError, operation, str(exc)) from None
            except requests.RequestException as exc:
                failure, retry_after = self._describe_exception(operation, exc), None
            else:
                if response.status_code == 200:
                    return response.content
                failure = self._describe_response(operation, response)
                if not isinstance(failure, GlanceUnavailable):
                    raise failure
                retry_after = _retry_after_seconds(response)
            if last_try:
                tries = f" (gave up after {attempt + 1} tries)" if attempt else ""
                raise self._error(GlanceUnavailable, operation, failure.detail + tries)
            delay = self._backoff(attempt, retry_after)
            log.warning("%s; retrying in %.1fs", self._scrub(str(failure)), delay)
            self.sleep(delay)
        raise AssertionError("unreachable")

    def _describe_exception(self, operation: str, exc: requests.RequestException) -> GlanceError:
        if isinstance(exc, requests.Timeout):
            what = f"no answer within {self.timeout[1]:g}s (timeout)"
        elif isinstance(exc, requests.ConnectionError):
            what = f"cannot connect to {self.endpoint} ({type(exc).__name__})"
        else:
            what = f"request failed ({type(exc).__name__})"
        return self._error(GlanceUnavailable, operation, what)

    def _describe_response(self, operation: str, response: requests.Response) -> GlanceError:
        """The answer's category, in our words: what it said only decides which one."""
        message, exception_type = _server_message(response)
        said = outbound.status_words(response.status_code)
        if response.status_code in (401, 403) or (message and _AUTH_WORDS.search(message)):
            return self._error(
                GlanceAuthError, operation, f"the partner id or API key was refused ({said})"
            )
        if exception_type.endswith(_REQUEST_FAULTS):
            return self._error(GlanceError, operation, f"the service rejected the request ({said})")
        if response.status_code not in _RETRY_STATUSES:
            return self._error(
                GlanceError, operation, f"unexpected answer from {self.endpoint} ({said})"
            )
        return self._error(GlanceUnavailable, operation, said)

    def _parse(self, operation: str, parser: Callable[[bytes], Any], body: bytes) -> Any:
        try:
            return parser(body)
        except RecordError as exc:
            raise self._error(GlanceBadResponse, operation, f"malformed answer: {exc}") from None

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.backoff_max)
        ceiling = min(self.backoff_max, self.backoff_base * 2**attempt)
        return random.uniform(ceiling / 2, ceiling)  # jitter spreads out many partners' retries

    def _error(self, cls: type[GlanceError], operation: str, detail: str) -> GlanceError:
        return cls(self._scrub(detail), partner=self.label, operation=operation)

    def _scrub(self, text: str) -> str:
        return text.replace(self._api_key, "••••") if self._api_key else text


def _server_message(response: requests.Response) -> tuple[str, str]:
    """What the server said: an ASMX JSON fault's Message, or the start of a text body."""
    try:
        fault = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        fault = None
    if isinstance(fault, dict) and isinstance(fault.get("Message"), str):
        return fault["Message"].strip(), str(fault.get("ExceptionType") or "")
    content_type = response.headers.get("Content-Type", "")
    if content_type.startswith("text/plain"):
        first_line = response.text.strip().splitlines()[0] if response.text.strip() else ""
        exception_type, _, message = first_line.partition(": ")
        return (message or first_line)[:300], exception_type if message else ""
    return (response.reason or "").strip(), ""


def _retry_after_seconds(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000" in an HTTP date means UTC
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - timezone.now()).total_seconds())


class Answer:
    """One PartnerCompletedSessions answer: its cursor now, its records when asked."""

    def __init__(self, client: GlanceClient, body: bytes) -> None:
        self._client, self._body, self._page = client, body, None
        self.size = len(body)
        self.next_id = cursor_of(body)
        if self.next_id is None:  # an unusual page: read it whole now, to know where it leads
            self.next_id = self.page().next_id

    def page(self) -> Page:
        if self._page is None:
            self._page = self._client._parse(COMPLETED_SESSIONS, page_from_answer, self._body)
            self._body = b""
        return self._page
