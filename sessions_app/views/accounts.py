"""The user's own account: preferences (time zone, email address), password change and reset
(audited)."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.shortcuts import redirect, render
from django.urls import reverse
from django_q.tasks import async_task

from sessions_app import timezones
from sessions_app.accounts import members
from sessions_app.accounts.client_address import client_address
from sessions_app.models import Profile


class PasswordChangeView(auth_views.PasswordChangeView):
    def form_valid(self, form):
        with members.password_change(form.user, request=self.request):
            return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    def form_valid(self, form):
        with members.password_change(form.user, request=self.request, by_email=True):
            return super().form_valid(form)


class LogoutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.info(request, "You have logged out.")  # kept in a cookie: the session is gone
        return response


class PreferencesForm(forms.Form):
    time_zone = forms.ChoiceField(
        choices=[("", "Site default"), *timezones.choices()],
        required=False,
        help_text="Dates are shown, filtered and grouped into days and hours in this zone.",
    )
    email = forms.EmailField(
        required=False,
        label="Email address",
        help_text="Where emailed reports, alerts and password resets reach you.",
    )
    current_password = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="Needed to change your email address: password resets go there.",
    )
    TRIES_PER_HOUR = 5  # password checks here, besides the login page's own lockout

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean(self):
        data = super().clean()
        if "email" not in self.data:  # a form without the field changes only the time zone
            data["email"] = self.user.email
        email = (data.get("email") or "").strip()
        if email.lower() == (self.user.email or "").lower():
            return data
        # Whether another account uses the address is checked when it is confirmed, by whoever
        # holds that mailbox: saying so here would tell anyone which addresses have accounts.
        if not _within(f"email-change-{self.user.pk}", self.TRIES_PER_HOUR):
            self.add_error("current_password", "Too many tries: wait an hour.")
        elif not self.user.check_password(data.get("current_password") or ""):
            self.add_error("current_password", "Your current password, to change your email.")
        return data


@login_required
def preferences(request):
    profile, _ = Profile.objects.get_or_create(user=request.user)
    initial = {"time_zone": profile.time_zone, "email": request.user.email}
    form = PreferencesForm(request.POST or None, initial=initial, user=request.user)
    if request.method == "POST" and form.is_valid():
        profile.time_zone = form.cleaned_data["time_zone"]
        profile.save()
        # The zone just saved: request.user still holds the profile it was loaded with.
        zone = timezones.named(profile.time_zone).key
        said = [f"Times are now shown in {zone}."]
        email = form.cleaned_data["email"].strip()
        if not email and request.user.email:
            request.user.email = ""
            members.save_user(request.user, ["email"], request=request, created=False)
            said.append("Email address removed.")
        elif email.lower() != (request.user.email or "").lower():
            token = members.email_change_token(request.user, email)
            link = request.build_absolute_uri(reverse("email_confirm", args=[token]))
            async_task("sessions_app.tasks.send_email_confirmation_task", request.user.pk, email,
                       link)  # fmt: skip
            said.append(f"A link is on its way to {email}: your address changes when you open it.")
        messages.success(request, " ".join(said))
        return redirect("preferences")
    return render(request, "registration/preferences.html", {"form": form})


@login_required
def email_confirm(request, token):
    """The link from a change of address, opened by the account that asked for it."""
    try:
        email = members.confirm_email(request.user, token, request=request)
    except members.EmailChangeError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Your email address is now {email}.")
    return redirect("preferences")


class PasswordResetView(auth_views.PasswordResetView):
    """The reset form, throttled per client address and per email, and answered the same way
    whether or not the address is known: the mail is built and sent by the background worker,
    so the answer's timing says nothing either."""

    def form_valid(self, form):
        email, address = form.cleaned_data["email"].lower(), client_address(self.request)
        if not _within(f"reset-address-{address}", settings.PASSWORD_RESETS_PER_ADDRESS):
            return render(self.request, "registration/locked_out.html", status=429)
        # Per email from each address, so nobody can use up someone else's resets; and a wider
        # cap per email from anywhere, so a mailbox is never flooded.
        per_email = settings.PASSWORD_RESETS_PER_EMAIL
        if _within(f"reset-email-{email}-{address}", per_email) and _within(
            f"reset-email-{email}", per_email * 5
        ):
            async_task(
                "sessions_app.tasks.send_password_reset_task",
                email,
                self.request.get_host(),
                self.request.is_secure(),
            )
        return redirect(self.get_success_url())  # the same answer, sent or not


def _within(key: str, limit: int, seconds: int = 3600) -> bool:
    """Counts one more try under `key` this hour; whether it is within `limit`."""
    cache.add(key, 0, seconds)
    try:
        return cache.incr(key) <= limit
    except ValueError:  # expired between add and incr: this is the first again
        cache.set(key, 1, seconds)
        return True
