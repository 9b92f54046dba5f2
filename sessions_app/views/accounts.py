"""The user's own account: preferences (time zone), password change and reset (audited)."""

from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from sessions_app import audit, timezones
from sessions_app.models import Profile


class PasswordChangeView(auth_views.PasswordChangeView):
    def form_valid(self, form):
        response = super().form_valid(form)
        audit.record(
            audit.Action.PASSWORD_CHANGED,
            f"{self.request.user} changed their password",
            request=self.request,
        )
        return response


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    def form_valid(self, form):
        response = super().form_valid(form)
        audit.record(
            audit.Action.PASSWORD_CHANGED,
            f"{form.user} set a password by email link",
            request=self.request,
            user=form.user,
        )
        return response


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


@login_required
def preferences(request):
    profile, _ = Profile.objects.get_or_create(user=request.user)
    form = PreferencesForm(request.POST or None, initial={"time_zone": profile.time_zone})
    if request.method == "POST" and form.is_valid():
        profile.time_zone = form.cleaned_data["time_zone"]
        profile.save()
        # The zone just saved: request.user still holds the profile it was loaded with.
        zone = timezones.named(profile.time_zone).key
        messages.success(request, f"Times are now shown in {zone}.")
        return redirect("preferences")
    return render(request, "registration/preferences.html", {"form": form})
