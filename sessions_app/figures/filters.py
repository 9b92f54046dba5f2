"""The one filter every page, chart, list and export uses, so they can never disagree.

Its parameters live in the query string (bookmarkable, shareable): `start`, `end` (dates,
inclusive, in the user's time zone) or a `preset`, `partner`, `type`, `status`, `outcome`,
`agent`, `team`, `country`, `region`, `city`, `min_duration`, `max_duration`, `min_wait`, `max_wait`
(seconds; a wait filter selects only sessions whose time to join is known), `key`,
`has_error`, `q` (guest name/email/phone; only where the user may see guest details), and, for
drill-downs from the heatmap, `weekday` (1 = Monday) and `hour`. A bad value is a form error on
the page, never a server error.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django import forms
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay
from django.urls import reverse
from django.utils import timezone

from sessions_app import codes
from sessions_app.accounts import access
from sessions_app.figures import geo
from sessions_app.figures.kinds import outcome_q
from sessions_app.models import Guest, Partner, Role

PRESETS = [
    ("today", "Today"),
    ("yesterday", "Yesterday"),
    ("7d", "Last 7 days"),
    ("30d", "Last 30 days"),
    ("90d", "Last 90 days"),
    ("this_month", "This month"),
    ("last_month", "Last month"),
    ("custom", "Custom range"),
]
DEFAULT_PRESET = "30d"
MAX_RANGE_DAYS = 3660
# Dates a filter may name: a range, the period before it and a day either side must stay
# inside what Python's dates hold, and nothing Glance ever served lies outside these.
FIRST_DATE, LAST_DATE = date(2000, 1, 1), date(2099, 12, 31)

OUTCOMES = [
    ("connected", "Connected (C, X)"),
    ("not_connected", "Not connected (Q, T)"),
    ("other", "Other"),
]
PLACE_COLUMNS = {"country": "country_code", "region": "region", "city": "city"}
_LETTER = re.compile(r"^[A-Za-z]$")
_COUNTRY = re.compile(r"^[A-Za-z]{2}$")


class LettersField(forms.MultipleChoiceField):
    """Repeatable one-letter codes: an open set (Glance adds letters), so any letter is valid."""

    def valid_value(self, value: str) -> bool:
        return bool(_LETTER.match(value))

    def clean(self, value: list[str] | None) -> list[str]:
        # Repeated (status=C&status=X) or run together as the filter bar's box sends it (CX).
        letters = []
        for item in value or []:
            item = item.strip()
            letters += list(item) if item.isalpha() else ([item] if item else [])
        return list(dict.fromkeys(letter.upper() for letter in super().clean(letters)))


class MultipleIdsField(forms.ModelMultipleChoiceField):
    MAX_ID = 2**63 - 1  # the largest id either database stores; a larger one overflows the query

    def __init__(self, *args, noun: str, **kwargs):
        """`noun` names what the ids are of, in the errors: "There is no agent 7 …"."""
        kwargs.setdefault("label", noun.capitalize())
        super().__init__(*args, **kwargs)
        self.error_messages["invalid_choice"] = f"There is no {noun} %(value)s that you can see."
        article = "an" if noun[0] in "aeiou" else "a"
        self.error_messages["invalid_pk_value"] = f"“%(pk)s” is not {article} {noun} id."

    def _check_values(self, value):
        for pk in value:
            try:
                number = int(str(pk).strip())
            except ValueError:
                continue  # not a number at all: the usual "is not an id"
            if not 0 < number <= self.MAX_ID:
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"], code="invalid_pk_value",
                    params={"pk": pk},
                )  # fmt: skip
        return super()._check_values(value)


@dataclass(frozen=True)
class Period:
    """[start, end) in UTC-aware datetimes, with the local dates that produced it."""

    first_day: date
    last_day: date
    start: datetime
    end: datetime

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    def previous(self, tz: ZoneInfo) -> "Period":
        """The period of equal length just before this one, for KPI changes."""
        last = self.first_day - timedelta(days=1)
        return period_for(last - timedelta(days=self.days - 1), last, tz)


def period_for(first_day: date, last_day: date, tz: ZoneInfo) -> Period:
    start = datetime.combine(first_day, time.min, tzinfo=tz)
    end = datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=tz)
    return Period(first_day, last_day, start, end)


def preset_days(preset: str, today: date) -> tuple[date, date]:
    if preset == "today":
        return today, today
    if preset == "yesterday":
        return today - timedelta(days=1), today - timedelta(days=1)
    if preset in ("7d", "30d", "90d"):
        return today - timedelta(days=int(preset[:-1]) - 1), today
    if preset == "this_month":
        return today.replace(day=1), today
    if preset == "last_month":
        last = today.replace(day=1) - timedelta(days=1)
        return last.replace(day=1), last
    raise ValueError(preset)


def people_q(values: dict) -> Q | None:
    """The agents and teams the filter names, as one condition on `agent` that sessions and
    agents' rollup rows both have: the sessions of any of the agents, or of any agent in any of
    the teams (picking Grace and Tier 2 shows both, as the picker's chips read)."""
    parts = []
    if values.get("agent"):
        parts.append(Q(agent__in=values["agent"]))
    if values.get("team"):
        parts.append(Q(agent__team__in=values["team"]))
    if not parts:
        return None
    return parts[0] | parts[1] if len(parts) == 2 else parts[0]


class SessionFilter(forms.Form):
    preset = forms.ChoiceField(choices=PRESETS, required=False)
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    partner = MultipleIdsField(queryset=None, required=False, noun="partner")
    type = forms.MultipleChoiceField(choices=list(codes.SESSION_TYPES.items()), required=False)
    status = LettersField(required=False)
    outcome = forms.ChoiceField(choices=[("", "Any"), *OUTCOMES], required=False)
    agent = MultipleIdsField(queryset=None, required=False, noun="agent")
    team = MultipleIdsField(queryset=None, required=False, noun="team")
    country = forms.CharField(required=False, max_length=80)
    region = forms.CharField(required=False, max_length=100)
    city = forms.CharField(required=False, max_length=200)
    min_duration = forms.IntegerField(
        required=False, min_value=0, max_value=10**9, label="Lasted at least (s)"
    )
    max_duration = forms.IntegerField(
        required=False, min_value=0, max_value=10**9, label="Lasted at most (s)"
    )
    min_wait = forms.IntegerField(
        required=False, min_value=0, max_value=10**9, label="Waited at least (s)"
    )
    max_wait = forms.IntegerField(
        required=False, min_value=0, max_value=10**9, label="Waited at most (s)"
    )
    key = forms.CharField(required=False, max_length=255)
    has_error = forms.NullBooleanField(
        required=False,
        widget=forms.Select(
            choices=[("unknown", "Any"), ("true", "With an error"), ("false", "Without errors")]
        ),
    )
    q = forms.CharField(required=False, max_length=200, label="Guest name, email or phone")
    weekday = forms.IntegerField(required=False, min_value=1, max_value=7)
    hour = forms.IntegerField(required=False, min_value=0, max_value=23)

    def __init__(self, data, *, user, tz: ZoneInfo, today: date | None = None):
        if not data.get("preset") and not data.get("start") and not data.get("end"):
            data = data.copy()  # so the form shows the default range it applies
            data["preset"] = DEFAULT_PRESET
        super().__init__(data)
        self.user = user
        self.tz = tz
        self.today = today or timezone.now().astimezone(tz).date()
        self.fields["partner"].queryset = access.partners_for(user)
        self.fields["agent"].queryset = access.agents_for(user)
        self.fields["team"].queryset = access.teams_for(user)
        self._valid = self.is_valid()

    # --- validation ---------------------------------------------------------------------

    def clean_start(self) -> date | None:
        return self._in_range(self.cleaned_data["start"])

    def clean_end(self) -> date | None:
        return self._in_range(self.cleaned_data["end"])

    @staticmethod
    def _in_range(day: date | None) -> date | None:
        if day is not None and not FIRST_DATE <= day <= LAST_DATE:
            raise forms.ValidationError("A date between 2000 and 2099.")
        return day

    def clean_country(self) -> str:
        """A country by its name ("Germany"), a common short name ("USA", "UK") or its ISO
        code ("DE", "DEU"): the two-letter code the places are stored under."""
        text = self.cleaned_data["country"].strip()
        if not text:
            return ""
        code = geo.country_code_of(text)
        if code is None:
            if _COUNTRY.match(text):  # a code Glance may send that ISO has not (yet) assigned
                return text.upper()
            raise forms.ValidationError(
                f"No country called “{text}”: type its name (Germany) or code (DE)."
            )
        return code

    def clean_q(self) -> str:
        text = self.cleaned_data["q"].strip()
        if text and not self.pii_partners().exists():
            raise forms.ValidationError("Searching guests by name needs the analyst role.")
        return text

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        preset = data.get("preset") or ("custom" if start or end else DEFAULT_PRESET)
        data["preset"] = preset
        if preset == "custom":
            if not start or not end:
                raise forms.ValidationError("A custom range needs a start and an end date.")
            if end < start:
                self.add_error("end", "The end date is before the start date.")
            elif (end - start).days > MAX_RANGE_DAYS:
                self.add_error("end", f"At most {MAX_RANGE_DAYS} days at a time.")
        low, high = data.get("min_duration"), data.get("max_duration")
        if low is not None and high is not None and high < low:
            self.add_error("max_duration", "The longest duration is below the shortest.")
        low, high = data.get("min_wait"), data.get("max_wait")
        if low is not None and high is not None and high < low:
            self.add_error("max_wait", "The longest wait is below the shortest.")
        return data

    def error_list(self) -> list[str]:
        """The errors in words, each led by its field's label ("Team: There is no team 7 …")."""
        out = []
        for name, errors in self.errors.items():
            label = self.fields[name].label if name in self.fields else ""
            label = label or name.replace("_", " ").capitalize()
            out += [error if name == "__all__" else f"{label}: {error}" for error in errors]
        return out

    # --- what it selects ----------------------------------------------------------------

    @property
    def data_ok(self) -> bool:
        return self._valid

    @property
    def values(self) -> dict:
        """The cleaned values, or the defaults when the form has errors (pages still render)."""
        if self._valid:
            return self.cleaned_data
        return {"preset": DEFAULT_PRESET}

    @property
    def period(self) -> Period:
        values = self.values
        if values["preset"] == "custom":
            return period_for(values["start"], values["end"], self.tz)
        return period_for(*preset_days(values["preset"], self.today), self.tz)

    def shown_partners(self) -> list:
        """The partners whose data the filter shows: those it names, else all the user's; of
        those, only the ones its agents work for when it names agents."""
        partners = list(self.values.get("partner") or self.fields["partner"].queryset)
        chosen = [*(self.values.get("agent") or []), *(self.values.get("team") or [])]
        if chosen:
            theirs = {item.partner_id for item in chosen}
            partners = [partner for partner in partners if partner.pk in theirs]
        return partners

    def chosen_people(self) -> list[tuple[str, object, str]]:
        """(kind, agent or team, this filter's query without it) of each agent and team it
        names: the filter bar's removable chips."""
        out = []
        for kind in ("team", "agent"):
            chosen = self.values.get(kind) or []
            for item in chosen:
                rest = [other.pk for other in chosen if other.pk != item.pk]
                out.append((kind, item, self.query(**{kind: rest})))
        return out

    def picker_options(self) -> list[tuple[str, int, str]]:
        """(kind, id, label) of every team and agent the user may pick, teams first; an agent's
        label names its partner where the user sees several, and its Glance user name."""
        several = self.fields["partner"].queryset.count() > 1
        teams = [
            ("team", team.pk, f"Team: {team.name}" + (f" ({team.partner.name})" if several else ""))
            for team in self.fields["team"].queryset.select_related("partner").order_by("name")
        ]
        agents = []
        for agent in self.fields["agent"].queryset.select_related("partner"):
            where = f"{agent.partner.name}, " if several else ""
            agents.append(("agent", agent.pk, f"{agent.name} ({where}{agent.user_name})"))
        return teams + sorted(agents, key=lambda option: option[2].lower())

    @property
    def weekday_words(self) -> str:
        day = self.values.get("weekday")
        return codes.WEEKDAYS_PLURAL[day - 1] if day else ""

    @property
    def hour_words(self) -> str:
        hour = self.values.get("hour")
        return "" if hour is None else codes.hour_span(hour)

    @property
    def without_weekday(self) -> str:
        return self.query(weekday=[])

    @property
    def without_hour(self) -> str:
        return self.query(hour=[])

    def country_name(self) -> str:
        """The country filter as the box shows it: by name."""
        code = self.values.get("country")
        return geo.country_name(code) if code else ""

    def pii_partners(self) -> QuerySet[Partner]:
        return access.partners_for(self.user, Role.ANALYST)

    def filter_qs(self, qs: QuerySet, period: Period | None = None) -> QuerySet:
        """Sessions (already scoped by the access helper) narrowed to this filter."""
        period = period or self.period
        values = self.values
        qs = qs.filter(start_time__gte=period.start, start_time__lt=period.end)
        if values.get("partner"):
            qs = qs.filter(partner__in=values["partner"])
        if values.get("type"):
            qs = qs.filter(session_type__in=values["type"])
        if values.get("status"):
            qs = qs.filter(status__in=values["status"])
        qs = self._outcome(qs, values.get("outcome"))
        people = people_q(values)
        if people is not None:
            qs = qs.filter(people)
        if values.get("min_duration") is not None:
            qs = qs.filter(duration__gte=values["min_duration"])
        if values.get("max_duration") is not None:
            qs = qs.filter(duration__lte=values["max_duration"])
        if values.get("min_wait") is not None:
            qs = qs.filter(wait_seconds__gte=values["min_wait"])
        if values.get("max_wait") is not None:
            qs = qs.filter(wait_seconds__lte=values["max_wait"])
        if values.get("key"):
            qs = qs.filter(key=values["key"])
        qs = self._when(qs, values.get("weekday"), values.get("hour"))
        guest_q = self.guest_q()
        if guest_q is not None:
            qs = qs.filter(Exists(Guest.objects.filter(guest_q, session=OuterRef("pk"))))
        if values.get("has_error") is False:
            with_error = Guest.objects.filter(session=OuterRef("pk"), error__isnull=False)
            qs = qs.exclude(Exists(with_error.exclude(error="")))
        if values.get("q"):
            qs = qs.filter(partner__in=self.pii_partners())
        return qs

    def guest_q(self) -> Q | None:
        """The guest-level part of the filter, as a condition on Guest rows: one guest meets all
        of it. A place (`country`, `region`, `city`) is where a visitor was, never the agent's or
        host's own seat: the maps count visitors, and a click on one opens the sessions a visitor
        from there was in."""
        values = self.values
        parts = []
        place = {
            f"{column}__iexact": values[name]
            for name, column in PLACE_COLUMNS.items()
            if values.get(name)
        }
        if place:
            parts.append(Q(**place) & ~Q(guest_type__in=codes.SUBSCRIBER_GUEST_TYPES))
        if values.get("has_error") is True:
            parts.append(Q(error__isnull=False) & ~Q(error=""))
        if values.get("q"):
            text = values["q"]
            parts.append(
                Q(name__icontains=text) | Q(email__icontains=text) | Q(phone__icontains=text)
            )
        if not parts:
            return None
        condition = parts[0]
        for part in parts[1:]:
            condition &= part
        return condition

    def _outcome(self, qs, outcome):
        condition = outcome_q(outcome)
        return qs if condition is None else qs.filter(condition)

    def _when(self, qs, weekday, hour):
        if weekday is not None:
            qs = qs.annotate(_weekday=ExtractIsoWeekDay("start_time", tzinfo=self.tz)).filter(
                _weekday=weekday
            )
        if hour is not None:
            qs = qs.annotate(_hour=ExtractHour("start_time", tzinfo=self.tz)).filter(_hour=hour)
        return qs

    # --- links --------------------------------------------------------------------------

    def params(self) -> list[tuple[str, str]]:
        """The filter as query parameters (only what was given), for links and exports."""
        if not self._valid:
            return []
        out = []
        for name, value in self.cleaned_data.items():
            if value in (None, "", []) or (name == "preset" and value == DEFAULT_PRESET):
                continue
            if name in ("partner", "agent", "team"):
                out += [(name, str(obj.pk)) for obj in value]
            elif isinstance(value, list):
                out += [(name, item) for item in value]
            elif isinstance(value, bool):
                out.append((name, "true" if value else "false"))
            elif name in ("start", "end"):
                if self.cleaned_data["preset"] == "custom":
                    out.append((name, value.isoformat()))
            else:
                out.append((name, str(value)))
        return out

    def query(self, **changes: object) -> str:
        """This filter's query string with some parameters replaced (None removes one)."""
        params = [(k, v) for k, v in self.params() if k not in changes]
        for name, value in changes.items():
            if value is None:
                continue
            values = value if isinstance(value, list | tuple) else [value]
            params += [(name, str(item)) for item in values]
        return urlencode(params)

    def drill(
        self, first_day: date | None = None, last_day: date | None = None, **changes: object
    ) -> str:
        """A link to the session list with this filter narrowed further."""
        if first_day is not None:
            changes |= {
                "preset": "custom",
                "start": first_day.isoformat(),
                "end": (last_day or first_day).isoformat(),
            }
        return reverse("session_list") + "?" + self.query(**changes)
