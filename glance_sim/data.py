"""Deterministic, lazy session data: one PRNG per (seed, partner, hour), nothing made ahead of need.

A bucket is one UTC hour. Headers (id, start, duration, type, status, agent, key, mutable) come from
one PRNG stream and are all that filtering and counting need; full records (guests etc.) come from a
second stream, so building them never changes the headers.
"""

import math
import random
from bisect import bisect
from datetime import datetime
from zoneinfo import ZoneInfo

from . import defaults
from .cities import CITIES
from .dates import iso
from .names import EMAIL_DOMAINS, FIRST, GUEST_NAMES, LAST

EPOCH_TS = int(datetime.fromisoformat(defaults.ID_EPOCH).timestamp())
ID_BASE, ID_PER_HOUR = defaults.ID_BASE, defaults.ID_PER_HOUR
# header tuple layout
H_ID, H_START, H_DUR, H_TYPE, H_STATUS, H_AGENT, H_KEY, H_MUT = range(8)

VISITOR_POOL = 8192
_M64 = (1 << 64) - 1


def _sm(x):
    x = (x + 0x9E3779B97F4A7C15) & _M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
    return x ^ (x >> 31)


def mix(*parts):
    """Stable integer hash (Python's hash() of str is salted per process)."""
    h = 0x243F6A8885A308D3
    for p in parts:
        h = _sm(h ^ (p & _M64))
    return h


def hour_of(ts):
    return (int(ts) - EPOCH_TS) // 3600


def hour_of_id(sid):
    return (sid - ID_BASE) // ID_PER_HOUR


# fmt: off
# Relative traffic by local hour of day; weekends get WEEKEND of that. Weekly mean normalised to 1.
_HOURS = [.03, .02, .02, .02, .03, .06, .15, .35, .75, 1.0, 1.1, 1.05,
          .85, 1.0, 1.1, 1.05, .9, .6, .35, .25, .2, .15, .1, .05]
WEEKEND = 0.15
_STATUS_CUTS, _STATUS_CODES = [.882, .942, .992, .994, .996, .998], "CQTDEKU"  # C X Q T, rare rest
_SCREENS = [(1920, 1080)] * 8 + [(1366, 768)] * 4 + [(2560, 1440)] * 3 + [(1440, 900)] * 2 + [
    (1536, 864), (1280, 720), (3840, 2160), (1680, 1050), (2880, 1800), (1280, 1024)]
_VIDEO = [(320, 240)] * 6 + [(640, 360)] * 5 + [(176, 144)] * 3 + [(352, 288)] * 3 + [
    (160, 120)] * 2 + [(640, 480), (704, 576)]
_DUR_MU = {"C": math.log(420), "G": math.log(900), "V": math.log(600)}  # medians 7, 15, 10 min
_VISITOR_CLIENTS = ["Chrome 120", "Chrome 121", "Chrome 119", "Safari 17", "Edge 121",
                    "Firefox 122", "iOs 3", "iOs 4", "Android 5.2", "Android 5.3", "Samsung 23"]
_AGENT_CLIENTS = ["Windows 6.4.1", "Windows 6.5.0", "Mac 6.4.1", "Chrome 120", "Edge 121"]
_ERRORS = ["Session ended by other side", "Connection lost", "Client timed out"]
# first octets of ordinary ISP/cloud blocks, so addresses look public (no 10/8, 127/8, 192.168...)
_IP_FIRST = [23, 24, 50, 64, 66, 67, 68, 69, 71, 72, 73, 74, 75, 76, 96, 97, 98, 99, 104, 107,
             108, 173, 174, 184, 198, 199, 204, 206, 207, 208, 209, 216, 2, 5, 31, 37, 46, 62,
             77, 78, 80, 81, 82, 86, 88, 90, 91, 93, 94, 95, 101, 103, 110, 112, 114, 117, 121,
             125, 180, 182, 186, 189, 200]
_V6_PREFIX = ["2601", "2600:1700", "2a02", "2001:4860", "2806", "2405"]
# fmt: on
_NORM = 168 / (sum(_HOURS) * (5 + 2 * WEEKEND))
HOUR_WEIGHT = [[w * _NORM * (WEEKEND if day >= 5 else 1.0) for w in _HOURS] for day in range(7)]
_CITY_CUM, _LOCS, _LOCS_NULLED = [], [], []
for _c in CITIES:
    _CITY_CUM.append((_CITY_CUM[-1] if _CITY_CUM else 0) + _c[3])
    _LOCS.append({"city": _c[0], "region": _c[1], "countryCode": _c[2]})
    _LOCS_NULLED.append({"city": None, "region": None, "countryCode": _c[2]})
_CITY_TOTAL = _CITY_CUM[-1]
_NA_LOCS = [loc for loc in _LOCS if loc["countryCode"] in ("US", "CA")]


def _pick(rnd, seq):
    return seq[int(rnd() * len(seq))]  # random.choice costs ~4x more on this hot path


def _ip(rnd):
    if rnd() < 0.05:
        a, b, c = int(rnd() * 65536), int(rnd() * 65536), int(rnd() * 65536)
        return f"{_pick(rnd, _V6_PREFIX)}:{a:x}:{b:x}::{c:x}"
    b = int(rnd() * 16777216)
    return f"{_pick(rnd, _IP_FIRST)}.{b >> 16}.{(b >> 8) & 255}.{(b & 255) or 1}"


def _location(rnd):
    u = rnd()
    if u < 0.02:
        return None
    i = bisect(_CITY_CUM, rnd() * _CITY_TOTAL)
    return _LOCS_NULLED[i] if u < 0.07 else _LOCS[i]


def _key(rnd, typ):
    """Cobrowse: visitor ids (4-6 digits) or codes like 9900V51849; screen share mostly 4 digits."""
    u = rnd()
    if (typ == "G" and u < 0.85) or (typ == "C" and u < 0.15):
        return str(1000 + int(rnd() * 9000))
    if typ == "C" and u < 0.7:
        return str(1000 + int(rnd() * (9000, 99000, 999000)[int(rnd() * 3)]))
    letter = typ if typ != "C" else _pick(rnd, "ABCDEFHKMNPRTVWXYZ")
    return f"{1000 + int(rnd() * 9000)}{letter}{10000 + int(rnd() * 90000)}"


def _who(rnd):
    """(name, email, phone) of a guest whose account gathers them; any may still be missing."""
    name, local = _pick(rnd, GUEST_NAMES)
    u = rnd()
    email = f"{local}@{_pick(rnd, EMAIL_DOMAINS)}" if u < 0.75 else None
    if rnd() < 0.5:
        phone = (
            f"{201 + int(rnd() * 789)}-{200 + int(rnd() * 800)}-{int(rnd() * 10000):04d}"
            if rnd() < 0.85
            else f"+44 20 {7000 + int(rnd() * 1000)} {int(rnd() * 10000):04d}"
        )
    else:
        phone = None
    return (name if u > 0.05 else None), email, phone


class PartnerData:
    """Per-partner constants (agents, traffic curve) and the two bucket generators."""

    def __init__(self, spec, seed):
        self.spec, self.seed, self.pid = spec, seed, spec.partner_id
        self.tz = ZoneInfo(spec.tz)
        self.rate = spec.sessions_per_day / 24.0
        r = random.Random(mix(seed, self.pid, 0xA6E))
        slug = (
            "".join(ch for ch in (spec.name or f"partner{self.pid}").lower() if ch.isalnum())
            or "partner"
        )
        n = max(1, spec.agents)
        # one deleted user per partner (never the only one); most agents sit in one of two offices
        invalid = r.randrange(n) if n > 1 else -1
        offices = [_pick(r.random, _NA_LOCS) for _ in range(2)]
        self.users, self.agent_profiles, used = [], [], set()
        for i in range(n):
            first, last = r.choice(FIRST), r.choice(LAST)
            base = f"{first}.{last}"
            name = base if base not in used else f"{base}{i}"
            used.add(name)
            valid = i != invalid
            self.users.append(
                {
                    "__type": defaults.TYPE_USER,
                    "userName": f"{name}.{slug}.glance.net",
                    "partnerUserId": f"EMP-{1001 + i}",
                    "validUser": valid,
                    "invalidReason": None if valid else "User deleted",
                }
            )
            # an agent works from one office connection with one client build
            client = _pick(r.random, _AGENT_CLIENTS) if r.random() < 0.85 else None
            home = (
                _pick(r.random, offices)
                if r.random() < 0.85
                else (_location(r.random) or offices[0])
            )
            self.agent_profiles.append((_ip(r.random), home, client, "4" if client else None))
        # some agents are far busier than others (Zipf-like), shuffled so ids don't give it away
        weights = [1.0 / (k + 1) ** 0.9 for k in range(n)]
        r.shuffle(weights)
        self.agent_cum, total = [], 0.0
        for w in weights:
            total += w
            self.agent_cum.append(total)
        self.agent_total = total
        # Visitors come from a per-partner pool: repeat visitors are realistic, and it halves the
        # cost of a guest.
        rnd = r.random
        self.visitors = []
        for _ in range(VISITOR_POOL):
            client = _pick(rnd, _VISITOR_CLIENTS) if rnd() < 0.9 else None
            proto = ("3" if rnd() < 0.4 else "4") if client else None
            who = _who(rnd) if rnd() < 0.3 else (None, None, None)
            self.visitors.append((_ip(rnd), _location(rnd), client, proto, *who))

    def hour_mean(self, h):
        local = datetime.fromtimestamp(EPOCH_TS + h * 3600 + 1800, self.tz)
        return self.rate * HOUR_WEIGHT[local.weekday()][local.hour]

    def steady_count(self, h):
        """Sessions in hour h of a steady partner: the rate spread evenly, none drawn at random
        (24 a day is one an hour; 8 a day one every three hours)."""
        return math.floor((h + 1) * self.rate + 1e-9) - math.floor(h * self.rate + 1e-9)

    def headers(self, h):
        r = random.Random(mix(self.seed, self.pid, h, 1))
        rnd, gauss, lam = r.random, r.gauss, self.hour_mean(h)
        if self.spec.steady:
            n = self.steady_count(h)
        elif lam < 30:  # Poisson by multiplication; normal approximation above
            limit, n, p = math.exp(-lam), 0, rnd()
            while p > limit:
                n += 1
                p *= rnd()
        else:
            n = max(0, int(r.gauss(lam, math.sqrt(lam)) + 0.5))
        n = min(n, ID_PER_HOUR - 1)
        t0, base = EPOCH_TS + h * 3600, ID_BASE + h * ID_PER_HOUR
        offsets = sorted(int(rnd() * 3600) for _ in range(n))
        cum, total, mut_salt = self.agent_cum, self.agent_total, mix(self.seed, 0x3D7)
        out = []
        for i, off in enumerate(offsets):
            sid = base + i
            u = rnd()
            typ = "C" if u < 0.55 else ("G" if u < 0.85 else "V")
            u = rnd()
            status = _STATUS_CODES[bisect(_STATUS_CUTS, u)]
            mutable = False
            if status == "C":
                mutable = _sm(mut_salt ^ sid) % defaults.MUTABLE_FRACTION == 0
                if mutable or rnd() < 0.05:
                    status = "X"
            if status == "C" or status == "X":
                dur = min(14400, max(8, int(math.exp(gauss(_DUR_MU[typ], 1.0)))))  # log-normal
            elif status == "Q" or status == "T":
                dur = 60 + int(rnd() * 241)
            else:
                dur = 5 + int(rnd() * 600)
            agent = bisect(cum, rnd() * total)
            out.append((sid, t0 + off, dur, typ, status, agent, _key(rnd, typ), mutable))
        return out

    def full(self, h, headers, odd):
        """[(session dict in the seed's JSON shape, [(clientVersion, protocolVersion, error)])]."""
        rnd = random.Random(mix(self.seed, self.pid, h, 2)).random
        session = self._session
        return [session(rnd, hdr, odd and hdr[H_MUT]) for hdr in headers]

    def _session(self, rnd, hdr, flipped):
        sid, start, dur, typ, status, agent, key, _ = hdr
        if typ == "C":
            width = height = 0
            rate = 0.05 + rnd() * 1.5
        elif typ == "G":
            width, height = _pick(rnd, _SCREENS)
            rate = 1 + rnd() * 11
        else:
            width, height = _pick(rnd, _VIDEO)
            rate = 5 + rnd() * 35
        clean = status == "C" or status == "X"
        kbytes = 0 if rnd() < 0.04 else int(dur * rate * (1.0 if clean else 0.05))
        sub_type = "agent" if typ == "C" else "host"
        other_type = "visitor" if typ == "C" else "guest"
        # who is there, in order of joining: (is_subscriber, type)
        if clean:
            parties = (
                [(False, other_type), (True, sub_type)]
                if typ == "C"
                else [(True, sub_type), (False, other_type)]
            )
            if rnd() < 0.12:
                parties.append((False, "guest"))
        elif status == "Q" or status == "T":
            parties = (
                [(False, other_type)]
                if rnd() < (0.8 if typ == "C" else 0.1)
                else [(True, sub_type)]
            )
        else:
            parties = [(True, sub_type)] if rnd() < 0.5 else [(True, sub_type), (False, other_type)]
        dropped = int(rnd() * len(parties)) if status == "X" else -1  # who lost the connection
        extra_s = defaults.MUTABLE_EXTRA_SECONDS if flipped else 0
        pool, blank_rate = self.visitors, (0.25 if typ == "V" else 0.03)
        guests, extras = [], []
        for gi, (is_sub, gtype) in enumerate(parties):
            if gi == 0:
                # The first arrival waits for the other side: mostly a few seconds, now and
                # then most of a minute (a cube of a uniform draw: median 5 s, a fifth over 20 s).
                gstart, gdur, gkb = start - int(rnd() ** 3 * 40), dur, kbytes
            else:
                lag = int(rnd() * min(20, dur // 3 + 1))
                gstart, gdur = start + lag, max(1, dur - lag - int(rnd() * min(30, dur // 4 + 1)))
                gkb = int(kbytes * (0.4 + rnd() * 0.6))
            u = rnd()
            if gi == dropped or (clean and u < 0.06):
                gstatus, error = "X", (_ERRORS[1] if u < 0.3 else _ERRORS[2] if u < 0.5 else None)
            else:
                gstatus = (
                    ("C" if u > 0.01 else "D")
                    if clean or status == "Q"
                    else ("U" if status == "U" else "X")
                )
                error = _ERRORS[0] if u > 0.95 else None
            if is_sub:
                ip, loc, client, proto = self.agent_profiles[agent]
                name = email = phone = None
            else:
                i = int(rnd() * VISITOR_POOL)
                ip, loc, client, proto, name, email, phone = pool[i]
                if gtype != "visitor":
                    # guests of a share give their details about half as often as visitors do
                    if i & 1:
                        name = email = phone = None
                    if (u * 7) % 1 < blank_rate:  # reuse u, decorrelated from the status draw
                        gtype = ""
            g = {
                "type": gtype,
                "status": gstatus,
                "startTime": iso(gstart),
                "duration": gdur + extra_s,
                "kbytes": gkb,
                "ip": ip,
                "location": loc,
                "name": name,
                "email": email,
                "phone": phone,
            }
            if defaults.JSON_GUEST_EXTRAS:
                g["clientVersion"], g["protocolVersion"], g["error"] = client, proto, error
            guests.append(g)
            extras.append((client, proto, error))
        session = {
            "__type": defaults.TYPE_SESSION,
            "id": sid,
            "type": typ,
            "status": "C" if flipped else status,
            "startTime": iso(start),
            "key": key,
            "width": width,
            "height": height,
            "duration": dur + extra_s,
            "kbytes": kbytes,
            "isReverse": typ == "G" and rnd() < 0.04,
            "guests": guests,
        }
        return session, extras
