"""Places: ISO country codes for the world map, US states and Canadian provinces for theirs.

Names and codes come from pycountry (the ISO 3166 tables). plotly.js draws US states itself;
Canadian provinces have no shapes in it, so they are drawn as bubbles at these centroids."""

from functools import cache, lru_cache

import pycountry

ALPHA3 = {country.alpha_2: country.alpha_3 for country in pycountry.countries}


@cache
def country_name(alpha2: str) -> str:
    country = pycountry.countries.get(alpha_2=alpha2.upper())
    return getattr(country, "common_name", None) or (country.name if country else alpha2)


# Names people type that ISO does not list: a country's everyday short names.
ALIASES = {
    "USA": "US", "U.S.": "US", "U.S.A.": "US", "AMERICA": "US", "UNITED STATES OF AMERICA": "US",
    "UK": "GB", "U.K.": "GB", "BRITAIN": "GB", "GREAT BRITAIN": "GB", "ENGLAND": "GB",
    "SCOTLAND": "GB", "WALES": "GB", "NORTHERN IRELAND": "GB", "HOLLAND": "NL", "RUSSIA": "RU",
    "SOUTH KOREA": "KR", "KOREA": "KR", "NORTH KOREA": "KP", "VIETNAM": "VN", "IRAN": "IR",
    "SYRIA": "SY", "LAOS": "LA", "BOLIVIA": "BO", "VENEZUELA": "VE", "TANZANIA": "TZ",
    "MOLDOVA": "MD", "CZECHIA": "CZ", "CZECH REPUBLIC": "CZ", "TURKEY": "TR", "UAE": "AE",
    "DEUTSCHLAND": "DE", "IVORY COAST": "CI", "TAIWAN": "TW", "PALESTINE": "PS",
}  # fmt: skip


@lru_cache(maxsize=1024)  # bounded: the text is whatever anyone types
def country_code_of(text: str) -> str | None:
    """The two-letter code of a country named by its code (DE, DEU), its ISO name, common or
    official name (Germany), or an everyday alias (USA, UK); None if none matches."""
    key = " ".join(text.split()).upper()
    if key in ALIASES:
        return ALIASES[key]
    try:
        return pycountry.countries.lookup(key).alpha_2
    except LookupError:
        pass
    for country in pycountry.countries:
        if getattr(country, "common_name", "").upper() == key:
            return country.alpha_2
    return None


@cache
def country_names() -> list[tuple[str, str]]:
    """(code, name) of every country, by name: the country box's suggestions."""
    return sorted(((c.alpha_2, country_name(c.alpha_2)) for c in pycountry.countries),
                  key=lambda pair: pair[1])  # fmt: skip


def _subdivisions(country: str) -> dict[str, str]:
    """{"MA": "Massachusetts", …}: the part of the ISO code after the country."""
    return {
        sub.code.split("-", 1)[1]: sub.name
        for sub in pycountry.subdivisions.get(country_code=country)
    }


US_STATES = _subdivisions("US")

# Province or territory: (name, latitude, longitude) of a point inside it, for the bubble map.
CA_PROVINCES = {
    "AB": ("Alberta", 53.9, -116.6),
    "BC": ("British Columbia", 53.7, -127.6),
    "MB": ("Manitoba", 53.8, -98.8),
    "NB": ("New Brunswick", 46.6, -66.5),
    "NL": ("Newfoundland and Labrador", 53.1, -57.7),
    "NS": ("Nova Scotia", 44.7, -63.7),
    "NT": ("Northwest Territories", 64.8, -124.8),
    "NU": ("Nunavut", 70.3, -83.1),
    "ON": ("Ontario", 50.0, -85.3),
    "PE": ("Prince Edward Island", 46.5, -63.4),
    "QC": ("Quebec", 52.9, -73.5),
    "SK": ("Saskatchewan", 52.9, -106.5),
    "YT": ("Yukon", 64.3, -135.0),
}
