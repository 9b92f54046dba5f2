"""Plotly figures of the dashboard, built on the server from the figures facade's aggregates and
served as JSON to the page, which draws them with plotly.js.

One colour per session type on every chart. Every label that came from outside (agent names,
places) is escaped, since plotly renders a subset of HTML in hover text. A point that leads
somewhere carries the URL of the session list narrowed to it as its customdata (drill-down).
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import plotly.graph_objects as go
from django.db.models import QuerySet
from django.utils.html import escape

from sessions_app import codes, figures, waiting
from sessions_app.figures import geo, kpis, selection
from sessions_app.figures.filters import SessionFilter
from sessions_app.figures.selection import Selection

TYPE_COLORS = {"C": "#2563eb", "G": "#d97706", "V": "#059669"}
OTHER_COLOR = "#7b8794"
# Okabe and Ito's blue and orange: told apart by every common kind of colour blindness, where
# green against red is not.
OUTCOME_COLORS = {"connected": "#0072b2", "not_connected": "#e69f00", "other": "#9aa5b1"}
OUTCOME_LABELS = {"connected": "Connected", "not_connected": "Not connected", "other": "Other"}
FONT = "system-ui, -apple-system, Segoe UI, Roboto, sans-serif"


@dataclass
class Chart:
    figure: go.Figure | None
    message: str = ""

    def as_json(self) -> dict:
        if self.figure is None:
            return {"data": [], "layout": {}, "empty": True, "message": self.message}
        return {**self.figure.to_plotly_json(), "empty": False, "message": ""}


EMPTY = "No sessions match these filters."


@dataclass
class Context:
    filter: SessionFilter
    selection: Selection  # what the filter selects: raw sessions, and rollups where they serve

    @property
    def sessions(self) -> QuerySet:
        return self.selection.sessions

    @property
    def tz(self) -> ZoneInfo:
        return self.filter.tz

    @property
    def tz_note(self) -> str:
        return f"Times in {self.tz.key}"


def type_color(code: str) -> str:
    return TYPE_COLORS.get(code, OTHER_COLOR)


LEGEND = {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"}


def layout(**extra: object) -> dict:
    base = {
        "margin": {"l": 56, "r": 16, "t": 40, "b": 48},
        "font": {"family": FONT, "size": 13, "color": "#1f2933"},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        # Above the plot: below it, a legend that wraps on a narrow screen ran into the axis
        # title.
        "legend": LEGEND,
        "hoverlabel": {"font": {"family": FONT}},
    }
    base.update(extra)
    return base


# --- overview ------------------------------------------------------------------------------


def sessions_over_time(ctx: Context) -> Chart:
    period = ctx.filter.period
    bucket = figures.bucket_for(period)
    rows = figures.sessions_over_time(ctx.selection, ctx.tz, bucket)
    if not rows:
        return Chart(None, EMPTY)
    fig = go.Figure()
    for code in _types_in(rows):
        points = [row for row in rows if row["session_type"] == code]
        fig.add_bar(
            name=escape(codes.label(codes.SESSION_TYPES, code)),
            x=[row["bucket"].astimezone(ctx.tz).strftime("%Y-%m-%d %H:%M") for row in points],
            y=[row["n"] for row in points],
            marker_color=type_color(code),
            customdata=[_time_drill(ctx, row["bucket"], bucket, code) for row in points],
            hovertemplate="%{x}<br>%{y} sessions<extra>%{fullData.name}</extra>",
        )
    _add_previous_period(fig, ctx, bucket)
    xaxis = {"title": {"text": f"{bucket.capitalize()} · {ctx.tz_note}"}}
    if bucket == "week":
        xaxis["tickformat"] = "week of %b %d"
    return Chart(
        fig.update_layout(
            layout(
                barmode="stack",
                xaxis=xaxis,
                yaxis={"title": {"text": "Sessions"}, "fixedrange": True},
                legend={**LEGEND, "traceorder": "normal"},
                **date_drag(bucket),
            )
        )
    )


def date_drag(bucket: str) -> dict:
    """A drag across a day or week chart sets the page's dates (static/js/charts.js), snapped
    to the buckets it covers: zoom on the time axis only. Hours are no dates to set."""
    if bucket == "hour":
        return {}
    return {"dragmode": "zoom", "meta": {"date_drag": True, "bucket_days": BUCKET_DAYS[bucket]}}


BUCKET_DAYS = {"day": 1, "week": 7}


def _add_previous_period(fig: go.Figure, ctx: Context, bucket: str) -> None:
    """The period before, of equal length, as a line laid over this one's bars (hidden until
    its legend entry is clicked): each of its buckets drawn where the matching bucket of this
    period is, its own dates in the hover."""
    period = ctx.filter.period
    previous = period.previous(ctx.tz)
    if kpis.comparison_gap(ctx.filter.shown_partners(), period, previous, ctx.tz):
        return  # a partner's data starts inside it: its line would show a rise that is not one
    rows = figures.sessions_over_time(selection.select(ctx.filter, previous), ctx.tz, bucket)
    totals: dict[datetime, int] = {}
    for row in rows:
        totals[row["bucket"]] = totals.get(row["bucket"], 0) + row["n"]
    # Whole weeks for weekly bars, so a Monday lands on a Monday; the local clock time is kept.
    shift = timedelta(days=period.days)
    if bucket == "week":
        shift = timedelta(weeks=max(round(period.days / 7), 1))
    keys = sorted(totals)
    fig.add_scatter(
        name=f"Previous period ({previous.first_day:%b %-d}–{previous.last_day:%b %-d})",
        x=[(k.astimezone(ctx.tz) + shift).strftime("%Y-%m-%d %H:%M") for k in keys],
        y=[totals[k] for k in keys],
        text=[k.astimezone(ctx.tz).strftime("%a %b %-d %H:%M") for k in keys],
        mode="lines+markers",
        line={"color": "#1f2933", "dash": "dot", "width": 2},
        marker={"size": 5},
        visible="legendonly",
        hovertemplate="%{text}: %{y} sessions<extra>previous period</extra>",
    )


def _time_drill(ctx: Context, moment: datetime, bucket: str, code: str | None,
                **changes: object) -> str:  # fmt: skip
    """The session list of one bucket (of one type, where `code` is given)."""
    if code is not None:
        changes["type"] = code
    local = moment.astimezone(ctx.tz)
    if bucket == "hour":
        return ctx.filter.drill(local.date(), hour=local.hour, **changes)
    period = ctx.filter.period
    last = local.date() + timedelta(days=6 if bucket == "week" else 0)
    # A week's bar may start before the period (weeks begin on Monday): list only its part.
    return ctx.filter.drill(
        max(local.date(), period.first_day), min(last, period.last_day), **changes
    )


def _types_in(rows) -> list[str]:
    found = {row["session_type"] for row in rows}
    known = [code for code in codes.SESSION_TYPES if code in found]
    return known + sorted(found - set(known))


def outcomes(ctx: Context) -> Chart:
    by_type = figures.outcomes_by_type(ctx.selection)
    if not by_type:
        return Chart(None, EMPTY)
    types = _types_in([{"session_type": t} for t in by_type])
    labels = [escape(codes.label(codes.SESSION_TYPES, t)) for t in types]
    fig = go.Figure()
    for outcome, label in OUTCOME_LABELS.items():
        counts = [by_type[t].get(outcome, 0) for t in types]
        totals = [sum(by_type[t].values()) for t in types]
        fig.add_bar(
            name=label,
            y=labels,
            x=counts,
            orientation="h",
            marker_color=OUTCOME_COLORS[outcome],
            text=[
                f"{100 * c / t:.0f}%" if t and c else ""
                for c, t in zip(counts, totals, strict=True)
            ],
            textposition="inside",
            customdata=[ctx.filter.drill(type=t, outcome=outcome) for t in types],
            hovertemplate="%{y}: %{x} sessions<extra>%{fullData.name}</extra>",
        )
    # A label that does not fit its segment is hidden (the hover still says it), not shrunk.
    uniform = {"minsize": 12, "mode": "hide"}
    return Chart(
        fig.update_layout(
            layout(barmode="stack", xaxis={"title": {"text": "Sessions"}}, uniformtext=uniform)
        )
    )


def durations(ctx: Context) -> Chart:
    rows = figures.duration_bins(ctx.selection)
    if not rows:
        return Chart(None, EMPTY)
    labels = [label for _, label in figures.DURATION_BINS]
    bounds = [0] + [upper for upper, _ in figures.DURATION_BINS[:-1]]
    fig = go.Figure()
    for code in _types_in(rows):
        counts = [0] * len(labels)
        for row in rows:
            if row["session_type"] == code:
                counts[row["bin"]] = row["n"]
        fig.add_bar(
            name=escape(codes.label(codes.SESSION_TYPES, code)),
            x=labels,
            y=counts,
            marker_color=type_color(code),
            customdata=[_duration_drill(ctx, i, bounds, code) for i in range(len(labels))],
            hovertemplate="%{x}: %{y} sessions<extra>%{fullData.name}</extra>",
        )
    axes = {"xaxis": {"title": {"text": "Duration"}}, "yaxis": {"title": {"text": "Sessions"}}}
    return Chart(fig.update_layout(layout(barmode="group", **axes)))


def _duration_drill(ctx, index, bounds, code) -> str:
    upper = figures.DURATION_BINS[index][0]
    return ctx.filter.drill(
        type=code, min_duration=bounds[index], max_duration=upper - 1 if upper else None
    )


def heatmap(ctx: Context) -> Chart:
    cells = figures.weekday_hour(ctx.selection, ctx.tz)
    if not cells:
        return Chart(None, EMPTY)
    hours = list(range(24))
    z = [[cells.get((day, hour), 0) for hour in hours] for day in range(1, 8)]
    drill = [[ctx.filter.drill(weekday=day, hour=hour) for hour in hours] for day in range(1, 8)]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[f"{hour:02d}:00" for hour in hours],
            y=codes.WEEKDAYS,
            customdata=drill,
            colorscale="Blues",
            hovertemplate="%{y} %{x}: %{z} sessions<extra></extra>",
            colorbar={"title": {"text": "Sessions"}},
        )
    )
    axes = {"yaxis": {"autorange": "reversed"}, "xaxis": {"title": {"text": ctx.tz_note}}}
    return Chart(fig.update_layout(layout(**axes)))


# --- waiting -------------------------------------------------------------------------------

TARGET_COLOR = "#7c3aed"


def service_level(ctx: Context) -> Chart:
    """Service level per bucket, the target as a line; a point opens its offered sessions."""
    period = ctx.filter.period
    bucket = figures.bucket_for(period)
    targets = waiting.targets_of(ctx.filter.shown_partners())
    by_bucket = figures.service_over_time(ctx.selection, ctx.tz, bucket, targets)
    points = [(key, s) for key, s in by_bucket.items() if s.service_level is not None]
    if not points:
        return Chart(None, "No answered or abandoned sessions match these filters.")
    x = [key.astimezone(ctx.tz).strftime("%Y-%m-%d %H:%M") for key, _ in points]
    # A point opens its answered and abandoned sessions (within the filter's own statuses),
    # which its hover counts: the answered ones of unknown wait among them.
    chosen = ctx.filter.values.get("status") or []
    offered = [s for s in waiting.OFFERED_STATUSES if not chosen or s in chosen]
    fig = go.Figure()
    fig.add_scatter(
        name="Service level",
        x=x,
        y=[round(s.service_level, 1) for _, s in points],
        mode="lines+markers",
        line={"color": TYPE_COLORS["C"], "width": 2},
        text=[_service_hover(s) for _, s in points],
        customdata=[
            _time_drill(ctx, key, bucket, None, status="".join(offered)) for key, _ in points
        ],
        hovertemplate="%{x}<br>%{y}%: %{text}<extra></extra>",
    )
    target = waiting.common_target(targets.values())
    if target is not None:
        fig.add_scatter(
            name=f"Target: {target}",
            x=[x[0], x[-1]] if len(x) > 1 else x,
            y=[target.percent] * min(len(x), 2),
            mode="lines",
            line={"color": TARGET_COLOR, "dash": "dash"},
            hoverinfo="skip",
        )
    xaxis = {"title": {"text": f"{bucket.capitalize()} · {ctx.tz_note}"}}
    yaxis = {"title": {"text": "Answered in time (%)"}, "range": [0, 105], "fixedrange": True}
    return Chart(fig.update_layout(layout(xaxis=xaxis, yaxis=yaxis, **date_drag(bucket))))


def _service_hover(s: figures.Service) -> str:
    unknown = f", {s.unknown:,} of unknown wait left out" if s.unknown else ""
    return f"{s.met:,} of {s.offered - s.unknown:,} in time ({s.offered:,} sessions{unknown})"


MIN_SESSIONS_PER_CELL = 5


def abandonment(ctx: Context) -> Chart:
    """Abandoned share of offered sessions by hour and weekday: when staffing falls short."""
    cells = figures.abandonment_by_hour(ctx.selection, ctx.tz)
    if not cells:
        return Chart(None, "No answered or abandoned sessions match these filters.")
    hours = list(range(24))
    z, text = [], []
    for day in range(1, 8):
        rates, counts = [], []
        for hour in hours:
            abandoned, offered = cells.get((day, hour), (0, 0))
            # One abandon in an hour of one session is 100%, and says nothing about staffing:
            # such hours stay blank.
            enough = offered >= MIN_SESSIONS_PER_CELL
            rates.append(round(100 * abandoned / offered, 1) if enough else None)
            counts.append(f"{abandoned:,} of {offered:,} abandoned")
        z.append(rates)
        text.append(counts)
    if all(rate is None for row in z for rate in row):
        return Chart(None, f"No hour has {MIN_SESSIONS_PER_CELL} or more answered or abandoned "
                           "sessions: too few to show a share.")  # fmt: skip
    drill = [
        [ctx.filter.drill(weekday=day, hour=hour, outcome="not_connected") for hour in hours]
        for day in range(1, 8)
    ]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[f"{hour:02d}:00" for hour in hours],
            y=codes.WEEKDAYS,
            text=text,
            customdata=drill,
            zmin=0,
            colorscale="OrRd",
            hoverongaps=False,
            hovertemplate="%{y} %{x}: %{z}% (%{text})<extra></extra>",
            colorbar={"title": {"text": "Abandoned %"}},
        )
    )
    axes = {"yaxis": {"autorange": "reversed"}, "xaxis": {"title": {"text": ctx.tz_note}}}
    return Chart(fig.update_layout(layout(**axes)))


# --- geography -----------------------------------------------------------------------------


# What a click on a place opens, in the unit the map counts: "18 visitors in 17 sessions".
PLACE_HOVER = "%{text}: %{customdata[1]}<extra></extra>"


def _in_sessions(visitors: int, sessions: int) -> str:
    plural = lambda n, word: f"{n:,} {word}{'s' * (n != 1)}"  # noqa: E731
    return f"{plural(visitors, 'visitor')} in {plural(sessions, 'session')}"


def _choropleth(
    visitors: dict[str, int],
    sessions: dict[str, int],
    *,
    locations: list[str],
    names: list[str],
    links: list[str],
    **trace,
) -> go.Choropleth:
    """A map of visitors by place (keys in sorted order, as `locations`, `names` and `links`
    give them), each place's hover saying what its click opens. The colour is by the logarithm
    of the count, its legend in plain numbers: with one country at 7,000, a linear scale paints
    500 and 0 alike."""
    keys = sorted(visitors)
    largest = max(visitors.values())
    ticks = [10**power for power in range(len(str(largest)))]
    return go.Choropleth(
        locations=locations,
        z=[math.log10(visitors[k]) for k in keys],
        zmin=0,
        zmax=max(math.log10(largest), 1),
        text=names,
        colorscale="Blues",
        customdata=[
            [link, _in_sessions(visitors[k], sessions.get(k, 0))]
            for k, link in zip(keys, links, strict=True)
        ],
        hovertemplate=PLACE_HOVER,
        colorbar={
            "title": {"text": "Visitors"},
            "tickvals": [math.log10(t) for t in ticks],
            "ticktext": [f"{t:,}" for t in ticks],
        },
        **trace,
    )


def countries(ctx: Context) -> Chart:
    places = figures.visitor_places(ctx.selection, ctx.filter.guest_q())
    counts, sessions = places.by_country(), places.sessions_by_country()
    mapped = {code: n for code, n in counts.items() if code in geo.ALPHA3}
    if not mapped:
        return Chart(None, "No located visitors match these filters.")
    codes_ = sorted(mapped)
    fig = go.Figure(
        _choropleth(
            mapped,
            sessions,
            locations=[geo.ALPHA3[c] for c in codes_],
            names=[escape(geo.country_name(c)) for c in codes_],
            links=[ctx.filter.drill(country=c) for c in codes_],
            locationmode="ISO-3",
            marker_line_color="#ffffff",
        )
    )
    geo_layout = {
        "showframe": False,
        "showcoastlines": False,
        "projection": {"type": "natural earth", "rotation": {"lon": 0}},
        "center": {"lon": 0, "lat": 20},
        "lataxis": {"range": [-58, 85]},
        "resolution": 50,
        "showcountries": True,
        "countrycolor": "#cbd2d9",
        "showland": True,
        "landcolor": "#f0f4f8",
        "bgcolor": "rgba(0,0,0,0)",
    }
    return Chart(fig.update_layout(layout(geo=geo_layout, margin={"l": 0, "r": 0, "t": 0, "b": 0})))


def us_states(ctx: Context) -> Chart:
    places = figures.visitor_places(ctx.selection, ctx.filter.guest_q())
    counts, sessions = places.by_region("US"), places.sessions_by_region("US")
    states = {code: n for code, n in counts.items() if code in geo.US_STATES}
    if not states:
        return Chart(None, "No visitors in the United States match these filters.")
    codes_ = sorted(states)
    fig = go.Figure(
        _choropleth(
            states,
            sessions,
            locations=codes_,
            names=[geo.US_STATES[c] for c in codes_],
            links=[ctx.filter.drill(country="US", region=c) for c in codes_],
            locationmode="USA-states",
        )
    )
    geo_layout = {"scope": "usa", "bgcolor": "rgba(0,0,0,0)", "lakecolor": "#ffffff"}
    return Chart(fig.update_layout(layout(geo=geo_layout, margin={"l": 0, "r": 0, "t": 0, "b": 0})))


def canada(ctx: Context) -> Chart:
    places = figures.visitor_places(ctx.selection, ctx.filter.guest_q())
    counts, sessions = places.by_region("CA"), places.sessions_by_region("CA")
    provinces = {code: n for code, n in counts.items() if code in geo.CA_PROVINCES}
    if not provinces:
        return Chart(None, "No visitors in Canada match these filters.")
    codes_ = sorted(provinces)
    largest = max(provinces.values())

    def size(n: int) -> float:  # a bubble's area grows with its count
        return 10 + 40 * (n / largest) ** 0.5

    fig = go.Figure(
        go.Scattergeo(
            lat=[geo.CA_PROVINCES[c][1] for c in codes_],
            lon=[geo.CA_PROVINCES[c][2] for c in codes_],
            text=[geo.CA_PROVINCES[c][0] for c in codes_],
            showlegend=False,
            marker={
                "size": [size(provinces[c]) for c in codes_],
                "color": "#2563eb",
                "opacity": 0.7,
                "line": {"width": 1, "color": "#fff"},
            },
            customdata=[
                [
                    ctx.filter.drill(country="CA", region=c),
                    _in_sessions(provinces[c], sessions.get(c, 0)),
                ]
                for c in codes_
            ],
            hovertemplate=PLACE_HOVER,
        )
    )
    # The size legend, in a row under the map: circles drawn at the bubbles' own pixel sizes (a
    # plotly legend caps its symbols' size, so they would all look alike).
    shapes, labels = [], []
    for i, n in enumerate(_size_steps(largest)):
        d, x = size(n), 0.2 + 0.3 * i
        shapes.append({
            "type": "circle", "xref": "paper", "yref": "paper", "xsizemode": "pixel",
            "ysizemode": "pixel", "xanchor": x, "yanchor": 0, "x0": -d / 2, "x1": d / 2,
            "y0": -38 - d / 2, "y1": -38 + d / 2, "fillcolor": "rgba(37,99,235,0.7)",
            "line": {"color": "#fff", "width": 1},
        })  # fmt: skip
        labels.append({
            "xref": "paper", "yref": "paper", "x": x, "y": 0, "xanchor": "left",
            "yanchor": "middle", "xshift": d / 2 + 6, "yshift": -38, "showarrow": False,
            "text": f"{n:,} visitor{'s' * (n != 1)}", "font": {"size": 11},
        })  # fmt: skip
    geo_layout = {
        "scope": "north america",
        "resolution": 50,
        "showcountries": True,
        "showsubunits": True,
        "landcolor": "#f0f4f8",
        "bgcolor": "rgba(0,0,0,0)",
        # Canada's middle, from the 49th parallel to the Arctic islands, filling the frame.
        "center": {"lat": 62, "lon": -96},
        "lonaxis": {"range": [-142, -50]},
        "lataxis": {"range": [41, 84]},
        "projection": {"type": "conic conformal", "parallels": [49, 77]},
    }
    return Chart(
        fig.update_layout(
            layout(
                geo=geo_layout, shapes=shapes, annotations=labels,
                margin={"l": 0, "r": 0, "t": 0, "b": 76},
            )
        )
    )  # fmt: skip


def _size_steps(largest: int) -> list[int]:
    """A few round counts up to the largest, for a size legend: 1, 10, 100… and the largest."""
    steps = [10**power for power in range(len(str(largest))) if 10**power < largest]
    return [*steps[-2:], largest]


CHARTS = {
    "sessions-over-time": sessions_over_time,
    "outcomes": outcomes,
    "durations": durations,
    "heatmap": heatmap,
    "service-level": service_level,
    "abandonment": abandonment,
    "countries": countries,
    "us-states": us_states,
    "canada": canada,
}
