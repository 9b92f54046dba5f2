"""Forms of the admin pages: partners (with a write-only API key) and access grants."""

from urllib.parse import urlsplit
from zoneinfo import available_timezones

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.db import models
from django.http import QueryDict
from django.urls import Resolver404, resolve

from sessions_app import codes, timezones
from sessions_app.accounts import access, members
from sessions_app.models import AlertRule, Partner, ReportSchedule, Role, email_list
from sessions_app.notify import reports


def https_by_default(field, **kwargs):
    """A URL typed without a scheme is https (Django 6's default; Glance speaks only HTTPS)."""
    if isinstance(field, models.URLField):
        kwargs["assume_scheme"] = "https"
    return field.formfield(**kwargs)


class PartnerForm(forms.ModelForm):
    """The API key is write-only: never rendered back, and left as it is when the field is blank."""

    api_key = forms.CharField(
        label="API key",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )

    class Meta:
        model = Partner
        formfield_callback = https_by_default
        fields = [
            "name",
            "glance_partner_id",
            "api_url",
            "api_key",
            "enabled",
            "sync_interval_minutes",
            "backfill_start",
            "service_level_percent",
            "service_level_seconds",
            "retain_ip_days",
            "retain_contact_days",
            "retain_sessions_days",
        ]
        widgets = {
            "backfill_start": forms.DateInput(attrs={"type": "date"}),
            # A text box, so "www.glance.net/…" without https:// reaches the server, which adds it.
            "api_url": forms.TextInput(attrs={"inputmode": "url", "size": 60}),
            "sync_interval_minutes": forms.NumberInput(attrs={"min": 1}),
            "service_level_percent": forms.NumberInput(attrs={"min": 1, "max": 100}),
            "service_level_seconds": forms.NumberInput(attrs={"min": 1, "max": 3600}),
        }
        labels = {"sync_interval_minutes": "Sync every (minutes)"}

    def __init__(self, *args, operator: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self._stored_url = self.instance.api_url
        if not operator:  # which company a partner is, is the operator's to say
            self.fields["glance_partner_id"].disabled = True
            self.fields["glance_partner_id"].help_text = "Set by the operator who added it."
        hint = self.instance.api_key_hint if self.instance.pk else ""
        self.fields["api_key"].help_text = (
            f"Stored encrypted ({hint}). Leave blank to keep it."
            if hint
            else "Glance's Activity Service key."
        )
        self.fields["sync_interval_minutes"].min_value = 1

    def clean_api_url(self):
        url = self.cleaned_data["api_url"]
        if urlsplit(url).scheme != "https" and not settings.GLANCE_ALLOW_HTTP:
            raise forms.ValidationError(
                "Glance endpoints use https://; plain http:// is for development only "
                "(GLANCE_ALLOW_HTTP)."
            )
        return url

    def clean(self):
        data = super().clean()
        # The stored key goes only to the endpoint it was entered for: a new endpoint needs it
        # typed again, or an admin could send it anywhere.
        # (changed_data would say "changed" for any field with a callable default, as api_url has.)
        moved = self.instance.pk and data.get("api_url") not in (None, self._stored_url)
        if moved and not data.get("api_key"):
            self.add_error("api_key", "Enter the API key again to use it with a new endpoint.")
        return data

    def clean_api_key(self):
        key = self.cleaned_data["api_key"]
        if not key and not self.instance.api_key_encrypted:
            raise forms.ValidationError("A new partner needs its API key.")
        return key

    def clean_sync_interval_minutes(self):
        minutes = self.cleaned_data["sync_interval_minutes"]
        if minutes < 1:
            raise forms.ValidationError("At least one minute.")
        return minutes

    @property
    def key_changed(self) -> bool:
        return bool(self.cleaned_data.get("api_key"))

    def save(self, commit=True):
        if self.key_changed:
            self.instance.set_api_key(self.cleaned_data["api_key"])
        if not (commit and self.instance.pk):
            return super().save(commit)
        # Only what the form edits: a sync running meanwhile owns the claim, the watermark and
        # the data generation, and a whole-row save would put back what was read when the form
        # was loaded (a released claim taken again, an older generation serving stale charts).
        # The form's own fields: the Django admin's form also names its read-only ones in Meta.
        edited = [name for name in self.fields if name != "api_key"]
        self.instance.save(update_fields=[*edited, "api_key_encrypted", "updated_at"])
        return self.instance


class GrantAccessForm(forms.Form):
    """Change a member's role by username, or invite anyone else by email. An invitation is sent
    whatever the address, and the person joins only by accepting it, so the form's answers never
    tell one company's admin whether a user of another company exists."""

    username = forms.CharField(
        max_length=150, required=False, help_text="A member's, to change their role."
    )
    email = forms.EmailField(
        required=False, help_text="Anyone else's: they are sent an invitation."
    )
    role = forms.ChoiceField(choices=Role.choices, initial=Role.VIEWER)

    NOT_A_MEMBER = "Invite them by email: a username here is only for the partner's own members."

    def __init__(self, data=None, *, partner=None, **kwargs):
        super().__init__(data, **kwargs)
        self.partner = partner

    def clean(self):
        cleaned = super().clean()
        username, email = cleaned.get("username", "").strip(), cleaned.get("email")
        cleaned["member"] = None
        if username:
            # Only among this partner's members: other users are not looked up at all.
            membership = (
                self.partner.memberships.select_related("user")
                .filter(user__username__iexact=username)
                .first()
            )
            if membership is None:
                self.add_error("username", self.NOT_A_MEMBER)
            cleaned["member"] = membership.user if membership else None
        elif not email:
            raise forms.ValidationError("Name a member, or give an email to invite someone.")
        return cleaned


class JoinForm(forms.Form):
    """A new account, made from an invitation: the invited email is theirs already."""

    username = forms.CharField(max_length=150)
    password1 = forms.CharField(label="Password", widget=forms.PasswordInput, strip=False)
    password2 = forms.CharField(label="Password again", widget=forms.PasswordInput, strip=False)

    def clean_username(self):
        try:
            name = members.normal_username(self.cleaned_data["username"])
        except members.BadUsername as exc:
            raise forms.ValidationError(str(exc)) from None
        if members.user_named(name) is not None:
            raise forms.ValidationError("That username cannot be used: choose another.")
        return name

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and first != second:
            self.add_error("password2", "The two passwords differ.")
        elif first:
            try:
                password_validation.validate_password(first)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned


class SavedViewForm(forms.Form):
    """Save the page a user is on, with its filters, under a name; optionally shared."""

    name = forms.CharField(max_length=100)
    path = forms.CharField(max_length=200, widget=forms.HiddenInput)
    query = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)
    partner = forms.ModelChoiceField(
        queryset=Partner.objects.none(),
        required=False,
        empty_label="Only me",
        label="Share with",
        help_text="Everyone who can see this partner will find the view under Views.",
    )

    # The dashboard pages a view can reopen: url name -> what the list of views calls it.
    PAGES = {
        "overview": "Overview",
        "geography": "Geography",
        "agent_list": "Agents",
        "agent_detail": "Agent",
        "session_list": "Sessions",
    }
    DROPPED = ("page", "csrfmiddlewaretoken")  # not part of what a view shows

    def __init__(self, data=None, *, user):
        super().__init__(data)
        self.fields["partner"].queryset = access.partners_for(user, Role.ANALYST)

    def clean_path(self):
        path = self.cleaned_data["path"]
        if dashboard_page(path) is None:
            raise forms.ValidationError("Only the dashboard's pages can be saved as views.")
        return path

    def clean_query(self):
        return view_query(self.cleaned_data["query"])


def dashboard_page(path: str) -> str | None:
    """The url name of the dashboard page at `path` (one SavedViewForm.PAGES holds), or None: an
    outside address, another of our pages or none."""
    if not path.startswith("/") or path.startswith("//"):
        return None
    try:
        name = resolve(path).url_name
    except Resolver404:
        return None
    return name if name in SavedViewForm.PAGES else None


def view_query(query: str) -> str:
    """A page's query string as a view keeps it: without the page number or a CSRF token."""

    params = QueryDict(query, mutable=True)
    for name in SavedViewForm.DROPPED:
        params.pop(name, None)
    return params.urlencode()


class WeekdaysField(forms.MultipleChoiceField):
    """Weekday checkboxes; also takes the digits run together ("12345"), as rules are stored."""

    def to_python(self, value):
        return [digit for item in super().to_python(value) for digit in item.strip()]


class AlertRuleForm(forms.ModelForm):
    """A partner admin's alert rule: what to watch, and whom to tell."""

    webhook_url = forms.URLField(
        required=False, max_length=500, assume_scheme="https", label="Webhook"
    )
    business_days = WeekdaysField(
        choices=[(str(day), name) for day, name in enumerate(codes.WEEKDAYS, start=1)],
        initial=["1", "2", "3", "4", "5"],
        widget=forms.CheckboxSelectMultiple,
        label="Business days",
    )

    class Meta:
        model = AlertRule
        fields = [
            "kind",
            "threshold",
            "hours",
            "business_days",
            "business_start",
            "business_end",
            "time_zone",
            "emails",
            "webhook_url",
        ]
        widgets = {
            "emails": forms.TextInput(attrs={"size": 40}),
            "threshold": forms.NumberInput(attrs={"min": 0, "max": 100, "step": "any"}),
            "hours": forms.NumberInput(attrs={"min": 1}),
            "business_start": forms.Select(choices=codes.hour_choices(0, 23)),
            "business_end": forms.Select(choices=codes.hour_choices(1, 24)),
        }

    def __init__(self, data=None, *, partner, time_zone: str = "UTC", **kwargs):
        kwargs.setdefault("initial", {"time_zone": time_zone})
        super().__init__(data, **kwargs)
        self.partner = partner
        self.fields["kind"].choices = AlertRule.Kind.choices  # no "---------"
        self.fields["time_zone"].widget = forms.Select(choices=timezones.choices())

    def clean_time_zone(self):
        name = self.cleaned_data["time_zone"]
        if name not in available_timezones():
            raise forms.ValidationError(f"{name!r} is not a time zone name, e.g. Europe/Berlin.")
        return name

    def clean_business_days(self):
        """The ticked days as the rule stores them: ISO weekday digits, "12345"."""
        days = self.cleaned_data["business_days"]
        if not days:
            raise forms.ValidationError("Tick at least one business day.")
        return "".join(sorted(set(days)))

    def clean_emails(self):
        emails = email_list(self.cleaned_data["emails"])
        outside = access.emails_outside(emails, [self.partner])
        if outside:
            raise forms.ValidationError(
                f"Alerts go only to users who can see {self.partner.name}: "
                f"{', '.join(outside)} cannot."
            )
        return ", ".join(emails)

    def clean_webhook_url(self):
        url = self.cleaned_data["webhook_url"]
        if url and urlsplit(url).scheme != "https" and not settings.ALERT_WEBHOOK_ALLOW_HTTP:
            raise forms.ValidationError("A webhook address must start with https://.")
        return url

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind == "low_connected_rate" and data.get("threshold") is None:
            self.add_error("threshold", "A connected-rate rule needs a threshold, in percent.")
        start, end = data.get("business_start"), data.get("business_end")
        if start is not None and end is not None and not 0 <= start < end <= 24:
            self.add_error("business_end", "Business hours end after they start, by 24:00.")
        if not data.get("emails") and not data.get("webhook_url") and not self.errors:
            raise forms.ValidationError("Name at least one recipient: emails or a webhook.")
        return data


class ReportScheduleForm(forms.ModelForm):
    """Email a saved view on a schedule, to users who may see its data."""

    class Meta:
        model = ReportSchedule
        fields = ["frequency", "send_hour", "send_to_owner", "recipients"]
        widgets = {
            "recipients": forms.TextInput(
                attrs={"size": 36, "placeholder": "colleague@example.com, …"}
            ),
            "send_hour": forms.Select(choices=codes.hour_choices(0, 23)),
        }
        labels = {"frequency": "How often", "send_hour": "At", "recipients": "Also to"}

    def __init__(self, data=None, *, user, view, **kwargs):
        kwargs.setdefault("initial", {"send_to_owner": True, "frequency": "weekly"})
        super().__init__(data, **kwargs)
        self.user, self.view = user, view
        self.fields["frequency"].choices = ReportSchedule.Frequency.choices  # no "---------"
        self.fields["send_hour"].min_value, self.fields["send_hour"].max_value = 0, 23

    def clean(self):
        data = super().clean()
        if not data.get("send_to_owner") and not data.get("recipients") and not self.errors:
            raise forms.ValidationError("Send it to yourself or name someone to send it to.")
        return data

    def clean_recipients(self):
        emails = email_list(self.cleaned_data["recipients"])
        if not emails:
            return ""
        probe = ReportSchedule(saved_view=self.view, owner=self.user)
        outside = reports.unfit_recipients(probe, emails)
        if outside:
            raise forms.ValidationError(
                f"Reports go only to users who can see all of this view's data"
                f"{' and search its guests' if 'q' in QueryDict(self.view.query) else ''}: "
                f"{', '.join(outside)} cannot."
            )
        return ", ".join(emails)
