"""Password change and reset, with each change written to the audit trail."""

from django.contrib import messages
from django.contrib.auth import views as auth_views

from sessions_app import audit


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
