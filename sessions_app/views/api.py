"""The read-only JSON API's endpoints and its schema, and the page where users make and revoke
their API tokens. What the endpoints compute is in sessions_app/api/endpoints.py, how tokens
are made and revoked in sessions_app/api/tokens.py."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sessions_app.api import endpoints, tokens
from sessions_app.api.schema import openapi_schema
from sessions_app.http import json_response
from sessions_app.views.one_time import one_time_secret


@endpoints.endpoint
def aggregates(request, user):
    flt = endpoints.session_filter(request, user)
    by = request.GET.get("by", "day")
    return json_response(
        {
            "by": by,
            "filter": endpoints.filter_echo(flt),
            "rows": endpoints.aggregates(flt, user, by),
        }
    )


@endpoints.endpoint
def sessions(request, user):
    flt = endpoints.session_filter(request, user)
    limit = endpoints.page_size(request.GET.get("limit", ""))
    rows, cursor = endpoints.session_page(flt, user, request.GET.get("cursor", ""), limit)
    following = None
    if cursor:
        query = request.GET.copy()
        query["cursor"] = cursor
        following = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
    return json_response({"filter": endpoints.filter_echo(flt), "results": rows, "next": following})


@require_GET
def schema(request):
    base = reverse("api_aggregates").rsplit("/", 1)[0]  # the API's root, /api/v1
    return json_response(openapi_schema(request.build_absolute_uri(base)))


@login_required
@require_http_methods(["GET", "POST"])
def token_list(request):
    if request.method == "POST":
        name = request.POST.get("name", "").strip()[:100] or "API token"
        token, secret = tokens.create_token(request.user, name, request=request)
        return one_time_secret(
            request,
            title=f"API token “{token.name}”",
            intro="Your new token:",
            secret=secret,
            scope="It reads what you may see, and nothing more.",
            back_url=reverse("api_tokens"),
            back_label="Back to your tokens",
        )
    context = {
        "tokens": request.user.api_tokens.all(),
        "schema_url": reverse("api_schema"),
        "section": "account",
    }
    return render(request, "registration/api_tokens.html", context)


@login_required
@require_POST
def token_revoke(request, pk):
    token = get_object_or_404(request.user.api_tokens, pk=pk, revoked_at__isnull=True)
    tokens.revoke_token(token, request=request)
    messages.success(request, f"Token “{token.name}” revoked.")
    return redirect("api_tokens")
