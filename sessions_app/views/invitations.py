"""Accepting an invitation to a partner: the one way someone joins a partner they are not a
member of yet. Logged in, they say yes; not logged in, they make an account (the invited email
becomes its address) or log in to the one they have."""

from django.contrib import messages
from django.contrib.auth import login
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from sessions_app.accounts import members
from sessions_app.forms import JoinForm


@require_http_methods(["GET", "POST"])
def invitation_accept(request, token):
    invitation = members.invitation_for(token)
    if invitation is None:
        raise Http404("this invitation is not valid: used, expired or never made")
    user = request.user if request.user.is_authenticated else None
    form = None if user else JoinForm(request.POST or None)
    if request.method == "POST" and (user or form.is_valid()):
        if user is None:
            user = members.create_user(
                form.cleaned_data["username"], invitation.email,
                password=form.cleaned_data["password1"], request=request,
            )  # fmt: skip
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        try:
            members.accept(invitation, user, request=request)
        except members.InvitationUsed as used:
            raise Http404(str(used)) from None
        messages.success(request, f"You now see {invitation.partner.name}.")
        return redirect("overview")
    context = {"invitation": invitation, "form": form, "role": invitation.get_role_display()}
    return render(request, "registration/invitation.html", context)
