"""Where the visitors were: the geography page's numbers, from one count of visitors by place
and one of sessions by place.

A place is (country, region, city) exactly as Glance reported it. Visitors are counted by place;
sessions once at each level of place a visitor of theirs was at (write.place_levels): a click on
a country, a state or a city opens exactly that many sessions, so the maps can say "18 visitors in
17 sessions". Both counts come from the rollups (plus the raw guests of the partial days at either
end) when the selection allows, else from GROUP BYs over the guest rows; every figure the page
shows is then derived here, in one way for both sources. tests/test_rollup_equality.py holds the
two sources equal.
"""

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet

from sessions_app.db import fetch_rows, select_in
from sessions_app.figures import from_rollups
from sessions_app.figures.from_sessions import located_guests, visitor_guests
from sessions_app.figures.selection import Selection
from sessions_app.models import Place
from sessions_app.rollups import write
from sessions_app.rollups.write import Place3, place_levels


@dataclass(frozen=True)
class VisitorPlaces:
    counts: Counter  # {(country, region, city): visitors}
    # {level key (write.place_levels): sessions with a visitor there}
    sessions: Counter = field(default_factory=Counter)

    @classmethod
    def from_rollups(cls, sel: Selection) -> "VisitorPlaces":
        """The visitors of a selection the rollups serve (rollup rows, and the edges' guests)."""
        return cls(*_from_rollups(sel))

    @classmethod
    def from_sessions(cls, sessions: QuerySet, guest_q: Q | None = None) -> "VisitorPlaces":
        """The visitors of raw sessions, narrowed by a guest-level condition."""
        return cls(from_guests(sessions, guest_q), sessions_from_guests(sessions, guest_q))

    def by_country(self) -> dict[str, int]:
        """Located visitors by upper-case country code."""
        out: Counter = Counter()
        for (country, _, _), n in self.counts.items():
            if country:
                out[country.upper()] += n
        return dict(out)

    def by_region(self, country: str) -> dict[str, int]:
        """Visitors in `country` (any case) by upper-case region, where one is given."""
        out: Counter = Counter()
        for (code, region, _), n in self.counts.items():
            if code and region and code.upper() == country.upper():
                out[region.upper()] += n
        return dict(out)

    def sessions_by_country(self) -> dict[str, int]:
        """Sessions with a visitor in each country (upper-case code): what country=X opens."""
        return {c: n for (c, r, city), n in self.sessions.items() if r is None and city is None}

    def sessions_by_region(self, country: str) -> dict[str, int]:
        """Sessions with a visitor in each upper-case region of `country`."""
        country = country.upper()
        return {
            r: n
            for (c, r, city), n in self.sessions.items()
            if c == country and r is not None and city is None
        }

    def top_cities(self, limit: int = 25) -> list[dict]:
        """The cities with most located visitors, grouped as the filter matches them (ignoring
        case; a city without a region stands for that city in any region, which is what its link
        opens), each shown in its most common spelling. Ties by country, city, then region: a
        total order, so both sources list ties alike."""
        visitors: Counter = Counter()
        spellings: dict[tuple, Counter] = defaultdict(Counter)
        for (country, region, city), n in self.counts.items():
            if country and city:
                key = (country.upper(), region.upper() if region else None, city.upper())
                visitors[key] += n
                spellings[key][(city, region or None)] += n
        rows = []
        for key, n in visitors.items():
            (city, region), _ = min(spellings[key].items(), key=lambda item: (-item[1], item[0]))
            rows.append({
                "country_code": key[0], "region": region, "city": city, "n": n,
                "sessions": self.sessions.get(key, 0),
            })  # fmt: skip
        rows.sort(key=lambda r: (-r["n"], r["country_code"], r["city"].upper(), r["region"] or ""))
        return rows[:limit]

    def coverage(self) -> dict:
        """How many visitors there are, and how many have no country (not on the maps)."""
        return {
            "guests": sum(self.counts.values()),
            "unlocated": sum(n for (country, _, _), n in self.counts.items() if not country),
        }


def from_guests(sessions: QuerySet, guest_q: Q | None = None) -> Counter:
    rows = (
        visitor_guests(sessions, guest_q)
        .order_by()
        .values_list("country_code", "region", "city")
        .annotate(n=Count("pk"))
    )
    return Counter({(country, region, city): n for country, region, city, n in rows})


def sessions_from_guests(sessions: QuerySet, guest_q: Q | None = None) -> Counter:
    """Sessions by place level (write.place_levels), from the located visitors' distinct
    (session, place) pairs: the raw path keys them with the very function the rollups use."""
    rows = located_guests(sessions, guest_q).values_list(*_PLACE_OF_SESSION).distinct()
    return _levels(_places_by_session(rows))


def _from_rollups(sel: Selection) -> tuple[Counter, Counter]:
    """(visitors by place, sessions by place level) of the selection's rollup rows and edges."""
    rows = from_rollups.read_rollups(sel, "places", "place_sessions")
    by_id = write.sum_places(row[0] for row in rows)
    sessions_by_id = write.sum_places(row[1] for row in rows)
    places = dict_of_places({*by_id, *sessions_by_id})
    counts, sessions = Counter(), Counter()
    for pk, n in by_id.items():
        counts[places[pk]] += n
    for pk, n in sessions_by_id.items():
        sessions[places[pk]] += n
    for part in sel.edges:
        edge_counts, edge_sessions = from_guest_rows(part)
        counts.update(edge_counts)
        sessions.update(edge_sessions)
    return counts, sessions


def from_guest_rows(sessions: QuerySet) -> tuple[Counter, Counter]:
    """(visitors by place, sessions by place level) from the visitor rows themselves, keyed as
    the rollups key them: for the partial days at a selection's ends, a few hundred rows."""
    by_session = _places_by_session(visitor_guests(sessions).values_list(*_PLACE_OF_SESSION))
    counts = Counter(place for places in by_session.values() for place in places)
    return counts, _levels(by_session)


_PLACE_OF_SESSION = ("session_id", "country_code", "region", "city")


def _places_by_session(rows) -> dict[int, list[Place3]]:
    """{session id: its visitors' places} of (session_id, country, region, city) rows."""
    by_session = defaultdict(list)
    for session_id, *place in fetch_rows(rows):
        by_session[session_id].append(tuple(place))
    return by_session


def _levels(by_session: dict[int, list[Place3]]) -> Counter:
    """Sessions by place level: each session once at each level of its visitors' places."""
    return Counter(level for places in by_session.values() for level in place_levels(tuple(places)))


def dict_of_places(ids: Iterable[int]) -> dict[int, Place3]:
    rows = select_in(
        Place, ["id", "country_code", "region", "city"], where={}, key="id", values=list(ids)
    )
    return {pk: tuple(place) for pk, *place in rows}
