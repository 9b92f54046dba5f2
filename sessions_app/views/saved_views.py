"""Saved views: a page and its filters under a name, the owner's or shared with a partner's
users. Every view is fetched through access.saved_views_for()."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from sessions_app import codes
from sessions_app.accounts import access
from sessions_app.figures.filters import DEFAULT_PRESET, OUTCOMES, PRESETS
from sessions_app.forms import ReportScheduleForm, SavedViewForm, dashboard_page, view_query
from sessions_app.models import Role, SavedView


@login_required
@require_GET
def saved_view_list(request):
    views = access.saved_views_for(request.user).select_related("owner", "partner")
    reports = {}
    for report in access.reports_for(request.user):
        reports.setdefault(report.saved_view_id, []).append(report)
    rows = [
        (
            view,
            _page_label(view),
            _can_delete(request.user, view),
            reports.get(view.pk, []),
            describe(access.view_query(view, request.user), request.user),
            access.view_query(view, request.user),
        )
        for view in views
    ]
    context = {
        "rows": rows,
        "section": "views",
        "report_form": ReportScheduleForm(user=None, view=None),
    }
    return render(request, "dashboard/saved_views.html", context)


@login_required
@require_POST
def saved_view_create(request):
    form = SavedViewForm(request.POST, user=request.user)
    back = request.POST.get("path", "")
    if not form.is_valid():
        errors = "; ".join(" ".join(messages_) for messages_ in form.errors.values())
        messages.error(request, f"The view was not saved: {errors}")
        return redirect(_safe(back, request.POST.get("query", "")))
    data = form.cleaned_data
    view, created = SavedView.objects.update_or_create(
        owner=request.user,
        name=data["name"],
        defaults={"path": data["path"], "query": data["query"], "partner": data["partner"]},
    )
    shared = f", shared with everyone who sees {view.partner.name}" if view.partner else ""
    verb = "Saved" if created else "Updated"
    messages.success(request, f"{verb} the view “{view.name}”{shared}. Find it under Views.")
    return redirect(view.url)


@login_required
@require_GET
def saved_view_open(request, pk):
    view = get_object_or_404(access.saved_views_for(request.user), pk=pk)
    query = access.view_query(view, request.user, masked=False)
    # A path the form checked is one of our pages: never off-site.
    return redirect(f"{view.path}?{query}" if query else view.path)


@login_required
@require_POST
def saved_view_delete(request, pk):
    view = get_object_or_404(access.saved_views_for(request.user), pk=pk)
    if not _can_delete(request.user, view):
        raise PermissionDenied("only its owner or the partner's admins delete a shared view")
    view.delete()
    messages.success(request, f"Deleted the view “{view.name}”.")
    return redirect("saved_view_list")


def _can_delete(user, view) -> bool:
    if view.owner_id == user.pk:
        return True
    return view.partner is not None and access.has_role(user, view.partner, Role.ADMIN)


def describe(query: str, user) -> str:
    """A view's filters in words, e.g. "Last 7 days · Video · agent jane.acme.glance.net"."""
    params = QueryDict(query)
    if params.get("start") or params.get("end"):
        parts = [f"{params.get('start') or '…'} to {params.get('end') or '…'}"]
    else:
        preset = params.get("preset") or DEFAULT_PRESET
        parts = [dict(PRESETS).get(preset, preset)]
    ids = {
        name: [v for v in params.getlist(name) if v.isdigit()]
        for name in ("partner", "agent", "team")
    }
    if ids["partner"]:
        names = (
            access.partners_for(user).filter(pk__in=ids["partner"]).values_list("name", flat=True)
        )
        parts.append(", ".join(sorted(names)) or "a partner you cannot see")
    parts += [codes.label(codes.SESSION_TYPES, code) for code in params.getlist("type")]
    if params.get("status"):
        letters = "".join(params.getlist("status")).upper()
        parts.append(" or ".join(codes.label(codes.SESSION_STATUSES, s) for s in letters))
    if params.get("outcome"):
        parts.append(dict(OUTCOMES).get(params["outcome"], params["outcome"]))
    if ids["agent"]:
        agents = access.agents_for(user).filter(pk__in=ids["agent"])
        parts += [f"agent {agent.name}" for agent in agents]
    if ids["team"]:
        teams = access.teams_for(user).filter(pk__in=ids["team"])
        parts += [f"team {name}" for name in teams.values_list("name", flat=True)]
    for name, label in _WORDS:
        if params.get(name) and name in ("weekday", "hour"):
            parts.append(_when(name, params[name]))
        elif params.get(name):
            parts.append(f"{label} {params[name]}")
    if params.get("sort"):
        parts.append(sort_words(params["sort"]))
    return " · ".join(parts)


# What each sort key orders by, ascending and descending: "longest first", not "-duration".
SORT_WORDS = {
    "start": ("oldest first", "newest first"),
    "duration": ("shortest first", "longest first"),
    "wait": ("quickest join first", "longest wait first"),
    "guests": ("fewest guests first", "most guests first"),
    "type": ("by type", "by type, reversed"),
    "status": ("by status", "by status, reversed"),
    "agent": ("by agent, A to Z", "by agent, Z to A"),
    "partner": ("by partner, A to Z", "by partner, Z to A"),
    "sessions": ("fewest sessions first", "most sessions first"),
    "minutes": ("fewest handled minutes first", "most handled minutes first"),
    "median": ("shortest median first", "longest median first"),
    "connected": ("lowest connected rate first", "highest connected rate first"),
}


def sort_words(sort: str) -> str:
    key, descending = sort.lstrip("-"), sort.startswith("-")
    words = SORT_WORDS.get(key)
    return words[descending] if words else f"sorted by {key}"


_WORDS = [
    ("country", "country"),
    ("region", "region"),
    ("city", "city"),
    ("min_duration", "at least (s)"),
    ("max_duration", "at most (s)"),
    ("min_wait", "waited at least (s)"),
    ("max_wait", "waited at most (s)"),
    ("key", "session key"),
    ("has_error", "guest error:"),
    ("q", "guest"),
    ("weekday", "weekday"),
    ("hour", "hour"),
]


def _when(name: str, value: str) -> str:
    """A heatmap cell's part in words: "Mondays", "09:00–10:00"."""
    if not value.isdigit():
        return f"{name} {value}"
    number = int(value)
    if name == "weekday" and 1 <= number <= 7:
        return codes.WEEKDAYS_PLURAL[number - 1]
    if name == "hour" and 0 <= number <= 23:
        return codes.hour_span(number)
    return f"{name} {value}"


def _page_label(view) -> str:
    return SavedViewForm.PAGES.get(dashboard_page(view.path), view.path)


def _safe(path: str, query: str) -> str:
    """Back to the page the form came from, if it is one of ours; else the overview."""
    if dashboard_page(path) is None:
        return reverse("overview")
    query = view_query(query[:2000])
    return f"{path}?{query}" if query else path
