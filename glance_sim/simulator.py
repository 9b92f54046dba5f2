"""Simulator state (partners, clock, version, faults, request log) and the queries behind it."""

import math
import random
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from . import defaults
from .data import (
    EPOCH_TS,
    H_AGENT,
    H_DUR,
    H_ID,
    H_KEY,
    H_MUT,
    H_START,
    H_STATUS,
    H_TYPE,
    ID_BASE,
    ID_PER_HOUR,
    PartnerData,
    hour_of,
    hour_of_id,
    mix,
)
from .dates import parse_date
from .faults import Faults

_USER_FIELDS = ("userName", "partnerUserId", "validUser", "invalidReason")


@dataclass
class PartnerSpec:
    partner_id: int
    api_key: str
    sessions_per_day: float = 300
    agents: int = 25
    name: str = "Acme"
    tz: str = "America/New_York"
    # The same number of sessions every hour, not a working week's curve: a test's data is then
    # the same size whatever weekday or hour the suite runs at.
    steady: bool = False


class ApiFault(Exception):
    """A fault the real service would answer with HTTP 500 (message, .NET exception type)."""

    def __init__(self, message, exception_type):
        super().__init__(message)
        self.message, self.exception_type = message, exception_type


def _ts(value):
    if isinstance(value, (int, float)):
        return float(value)
    return parse_date(value).timestamp()


class Simulator:
    def __init__(
        self,
        partners=None,
        seed=1,
        now=None,
        history_days=400,
        max_results=defaults.DEFAULT_MAX_RESULTS,
    ):
        specs = partners if partners is not None else [PartnerSpec(12345, "demo-key")]
        self.seed, self.now = seed, now
        self.history_days, self.max_results = history_days, max_results
        self.partners = {p.partner_id: PartnerData(p, seed) for p in specs}
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._in_flight = 0  # requests being answered
        # Caches hold whole hour buckets; size them by sessions, not buckets, so memory stays flat.
        peak = max([p.sessions_per_day for p in specs] + [24]) / 24 * 2.5
        hdr_size = int(min(2048, max(32, 200_000 // peak)))
        full_size = int(min(32, max(2, 4_000 // peak)))
        self._hdr = lru_cache(maxsize=hdr_size)(lambda pid, h: self.partners[pid].headers(h))
        self._full = lru_cache(maxsize=full_size)(
            lambda pid, h, odd: self.partners[pid].full(h, self._hdr(pid, h), odd)
        )
        self.reset()

    # --- state
    def reset(self):
        with self._lock:
            self.faults = Faults()
            self.request_log = []
            self.version = 0
            self.calls = 0  # API calls since reset
            self.completed_calls = 0  # PartnerCompletedSessions calls (numbers malformed_calls)
            self.completed_ok = 0  # ... of which answered 200 (counts towards fail_after_calls)
            self.error_rng = random.Random(mix(self.seed, 0xE770))

    @contextmanager
    def handling(self):
        """Around answering one request, so wait_idle can tell when none is left."""
        with self._lock:
            self._in_flight += 1
        try:
            yield
        finally:
            with self._lock:
                self._in_flight -= 1
                self._idle.notify_all()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Waits until no request is being answered: one a client gave up on (a timeout) may
        still be sleeping in its latency, and would log itself into the next test's calls."""
        with self._lock:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout)

    def bump_version(self):
        with self._lock:
            self.version += 1
            return self.version

    def admit_call(self, completed, faults):
        """Count an API call; decide its fate -> (completed-sessions call no., drop?, inject?)."""
        with self._lock:
            self.calls += 1
            if completed:
                self.completed_calls += 1
            if faults.fail_after_calls is not None and self.completed_ok >= faults.fail_after_calls:
                return self.completed_calls, True, False
            if faults.fail_next > 0:
                faults.fail_next -= 1
                return self.completed_calls, False, True
            inject = faults.error_rate > 0 and self.error_rng.random() < faults.error_rate
            return self.completed_calls, False, inject

    def completed_succeeded(self):
        with self._lock:
            self.completed_ok += 1

    def now_ts(self):
        now = self.now
        if now is None:
            return time.time()
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        return now.timestamp()

    def now_datetime(self):
        return datetime.fromtimestamp(self.now_ts(), UTC)

    def log(self, record):
        with self._lock:
            self.request_log.append(record)

    def authenticate(self, partner_id, api_key):
        p = self.partners.get(partner_id)
        return p if p is not None and p.spec.api_key == api_key else None

    # --- scanning
    def _scan(self, pid, start_ts, end_ts, now_ts, from_id=0):
        """Headers, in id order, with start in [start, end), existing by now, id >= from_id."""
        lo = max(start_ts, now_ts - self.history_days * 86400, EPOCH_TS)
        hi = min(end_ts, math.floor(now_ts) + 1)
        if hi <= lo:
            return
        h0 = hour_of(math.floor(lo))
        if from_id > 0:  # the id names its hour, so a cursor never rescans from the window start
            h0 = max(h0, hour_of_id(from_id))
        hdr = self._hdr
        for h in range(h0, hour_of(math.ceil(hi) - 1) + 1):
            for t in hdr(pid, h):
                if lo <= t[H_START] < hi and t[H_ID] >= from_id:
                    yield t

    @staticmethod
    def _duration(t, odd):
        return t[H_DUR] + (defaults.MUTABLE_EXTRA_SECONDS if odd and t[H_MUT] else 0)

    def _record(self, pid, t, odd):
        h, i = divmod(t[H_ID] - ID_BASE, ID_PER_HOUR)
        return self._full(pid, h, odd)[i]

    def page(self, pid, start_ts, end_ts, session_key, n_results, next_id):
        """One PartnerCompletedSessions page: (nextId, [(user, [(session, guest extras)])])."""
        now_ts, odd = self.now_ts(), self.version & 1
        picked, nxt, hidden = [], 0, self.faults.hidden_sessions
        for t in self._scan(pid, start_ts, end_ts, now_ts, max(next_id, 0)):
            if (session_key and t[H_KEY] != session_key) or t[H_START] + self._duration(
                t, odd
            ) > now_ts:
                continue
            if hidden and t[H_ID] in hidden:
                continue
            if len(picked) >= n_results:
                nxt = t[H_ID]
                break
            picked.append(t)
        groups, bucket_hour, bucket = (
            {},
            None,
            None,
        )  # dict order = order of first appearance on the page
        for t in picked:
            h, i = divmod(t[H_ID] - ID_BASE, ID_PER_HOUR)
            if h != bucket_hour:
                bucket_hour, bucket = h, self._full(pid, h, odd)
            groups.setdefault(t[H_AGENT], []).append(bucket[i])
        users = self.partners[pid].users
        return nxt, [(users[a], items) for a, items in groups.items()]

    # --- ground truth for tests
    def completed_sessions(self, partner_id, start, end):
        """Iterate ended sessions with start <= t < end, as served (copies), each with "_user"."""
        pd = self.partners[partner_id]
        return self._completed(pd, _ts(start), _ts(end))

    def _completed(self, pd, start_ts, end_ts):
        now_ts, odd, pid = self.now_ts(), self.version & 1, pd.pid
        for t in self._scan(pid, start_ts, end_ts, now_ts):
            if t[H_START] + self._duration(t, odd) <= now_ts:
                session = dict(self._record(pid, t, odd)[0])
                session["guests"] = [
                    dict(g, location=g["location"] and dict(g["location"]))
                    for g in session["guests"]
                ]
                user = pd.users[t[H_AGENT]]
                session["_user"] = {k: user[k] for k in _USER_FIELDS}
                yield session

    def session_counts(self, partner_id, start, end, type="", status="C"):
        """PartnerSessionCounts' answer less "__type": [{type, status, count, averageDuration}]."""
        pid = self.partners[partner_id].pid
        now_ts, odd = self.now_ts(), self.version & 1
        sums = {}
        if status in ("C", "A"):
            for t in self._scan(pid, _ts(start), _ts(end), now_ts):
                if type and t[H_TYPE] != type:
                    continue
                dur = self._duration(t, odd)
                ended = t[H_START] + dur <= now_ts
                if status == "C" and ended:
                    st = "C" if odd and t[H_MUT] else t[H_STATUS]
                elif status == "A" and not ended:
                    st, dur = (
                        (
                            defaults.WAITING_STATUS
                            if t[H_STATUS] in defaults.LIVE_AS_WAITING
                            else defaults.ACTIVE_STATUS
                        ),
                        0,
                    )
                else:
                    continue
                acc = sums.setdefault((t[H_TYPE], st), [0, 0])
                acc[0] += 1
                acc[1] += dur
        return [
            {"type": ty, "status": st, "count": c, "averageDuration": int(total / c + 0.5)}
            for (ty, st), (c, total) in sorted(sums.items())
        ]
