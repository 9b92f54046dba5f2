"""Where the visitors were: the geography page's numbers, from one count of visitors by place.

A place is (country, region, city) exactly as Glance reported it. The count comes from the
rollups' `places` arrays (plus the raw guests of the partial days at either end) when the
selection allows, else from one GROUP BY over the guest rows; every figure the page shows is then
derived from it here, in one way for both sources. tests/test_rollup_equality.py holds the two
counts equal.
"""

from collections import Counter
from dataclasses import dataclass

from django.db.models import Count, Q

from sessions_app import rollup_stats, rollups, stats
from sessions_app.bulk_sql import select_in
from sessions_app.models import Place
from sessions_app.selection import Selection

Place3 = tuple[str | None, str | None, str | None]


@dataclass(frozen=True)
class VisitorPlaces:
    counts: Counter  # {(country, region, city): visitors}

    @classmethod
    def of(cls, source, guest_q: Q | None = None) -> "VisitorPlaces":
        """The visitors of a Selection or a session queryset, narrowed by the filter's
        guest-level condition (a filter that has one never selects rollups)."""
        if isinstance(source, Selection) and source.uses_rollups and guest_q is None:
            counts = from_rollups(source)
        else:
            sessions = source.sessions if isinstance(source, Selection) else source
            counts = from_guests(sessions, guest_q)
        return cls(counts)

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

    def top_cities(self, limit: int = 25) -> list[dict]:
        """The cities with most located visitors; ties by country, then city, then region (no
        region first, then a blank one): a total order, so both sources list ties alike."""
        rows = [
            {"country_code": country, "region": region, "city": city, "n": n}
            for (country, region, city), n in self.counts.items()
            if country and city
        ]
        region = lambda r: (r["region"] is not None, r["region"] or "")  # noqa: E731
        rows.sort(key=lambda r: (-r["n"], r["country_code"], r["city"], region(r)))
        return rows[:limit]

    def coverage(self) -> dict:
        """How many visitors there are, and how many have no country (not on the maps)."""
        return {
            "guests": sum(self.counts.values()),
            "unlocated": sum(n for (country, _, _), n in self.counts.items() if not country),
        }


def from_guests(sessions, guest_q: Q | None = None) -> Counter:
    rows = (
        stats.visitor_guests(sessions, guest_q)
        .order_by()
        .values_list("country_code", "region", "city")
        .annotate(n=Count("pk"))
    )
    return Counter({(country, region, city): n for country, region, city, n in rows})


def from_rollups(sel: Selection) -> Counter:
    by_id = rollups.sum_places(row[0] for row in rollup_stats.read_rollups(sel, "places"))
    counts = Counter()
    places = select_in(
        Place, ["id", "country_code", "region", "city"], where={}, key="id", values=list(by_id)
    )
    for pk, *place in places:
        counts[tuple(place)] += by_id[pk]
    for part in sel.edges:
        counts.update(from_guests(part))
    return counts
