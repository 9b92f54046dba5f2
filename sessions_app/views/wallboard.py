"""The live wallboard: for logged-in users over their partners, and by a kiosk link over one
partner with no login and nothing else on the page. The page polls its data URL itself."""

from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from sessions_app import timezones
from sessions_app.accounts import access
from sessions_app.http import json_response
from sessions_app.models import Role
from sessions_app.notify import wallboard
from sessions_app.views.one_time import one_time_secret


def _partners(request):
    chosen = request.GET.get("partner", "")
    if chosen:
        if not chosen.isdigit():
            raise Http404("no such partner")
        return [access.get_partner_for(request.user, int(chosen))]
    return list(access.partners_for(request.user))


@login_required
@require_GET
def wallboard_page(request):
    partners = _partners(request)
    query = f"?partner={partners[0].pk}" if request.GET.get("partner") else ""
    context = {"data_url": reverse("wallboard_data") + query, "partners": partners, "kiosk": False}
    return render(request, "wallboard/wallboard.html", context)


@never_cache
@login_required
@require_GET
def wallboard_data(request):
    partners = _partners(request)
    # Why live counts fail (an endpoint's trouble) is for the partners' admins, who can fix it.
    detail = all(access.has_role(request.user, partner, Role.ADMIN) for partner in partners)
    board = wallboard.board(partners, timezones.for_user(request.user), detail=detail)
    return json_response(board.as_json())


@require_GET
def kiosk_page(request, token):
    link = _link(token)
    context = {
        "data_url": reverse("kiosk_data", args=[token]),
        "partners": [link.partner],
        "kiosk": True,
    }
    return render(request, "wallboard/wallboard.html", context)


@never_cache
@require_GET
def kiosk_data(request, token):
    link = _link(token)
    board = wallboard.board([link.partner], ZoneInfo(link.time_zone), detail=False)
    return json_response(board.as_json())


def _link(token):
    link = wallboard.kiosk_link_for(token)
    if link is None:
        raise Http404("no such kiosk link")  # unknown or revoked: the same answer
    return link


@login_required
@require_POST
def kiosk_create(request, pk):
    partner = access.get_partner_for(request.user, pk, Role.ADMIN)
    name = request.POST.get("name", "").strip()[:100] or "Wall display"
    zone = timezones.for_user(request.user).key
    link, token = wallboard.create_kiosk_link(partner, name, zone, request=request)
    url = request.build_absolute_uri(reverse("kiosk_page", args=[token]))
    return one_time_secret(
        request,
        title=f"Kiosk link “{link.name}”",
        intro=f"Open this on the wall display to show {partner.name}'s wallboard:",
        secret=url,
        scope="Anyone with it sees this partner's wallboard, and nothing else, until revoked.",
        back_url=reverse("partner_detail", args=[partner.pk]) + "#kiosk",
        back_label=f"Back to {partner.name}",
    )


@login_required
@require_POST
def kiosk_revoke(request, pk, link_pk):
    partner = access.get_partner_for(request.user, pk, Role.ADMIN)
    link = get_object_or_404(partner.kiosk_links, pk=link_pk, revoked_at__isnull=True)
    wallboard.revoke_kiosk_link(link, request=request)
    messages.success(request, f"Kiosk link “{link.name}” revoked: it opens nothing now.")
    return redirect(reverse("partner_detail", args=[partner.pk]) + "#kiosk")
