import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils import timezone

from sessions_app.models import Partner


class Command(BaseCommand):
    help = "Create the demo login and a demo partner served by the local Glance simulator."

    def add_arguments(self, parser):
        parser.add_argument(
            "--api-url", default="http://127.0.0.1:8765/services/activityservice.asmx"
        )
        parser.add_argument("--partner-id", type=int, default=12345)
        parser.add_argument("--api-key", default="demo-key")
        parser.add_argument("--username", default="demo")
        parser.add_argument("--backfill-days", type=int, default=90)
        parser.add_argument("--reset-password", action="store_true")

    def handle(self, *args, **options):
        backfill = (timezone.now() - timedelta(days=options["backfill_days"])).date()
        # The demo's own partner, set up by this command: running it again refreshes it.
        again = Partner.objects.filter(glance_partner_id=options["partner_id"]).exists()
        call_command(
            "add_partner",
            update=again,
            name="Demo Contact Centre",
            partner_id=options["partner_id"],
            api_key=options["api_key"],
            api_url=options["api_url"],
            backfill_from=backfill,
            interval=5,
            stdout=self.stdout,
        )
        self._login(options["username"], options["reset_password"])

    def _login(self, username, reset):
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        if user and not reset:
            self.stdout.write(
                f"Demo login: {username} (password as printed when it was created; "
                "`make demo-password` sets a new one)"
            )
            return
        password = secrets.token_urlsafe(12)
        if user is None:
            user = User(username=username, is_staff=True, is_superuser=True)
        user.set_password(password)
        user.save()
        self.stdout.write(self.style.SUCCESS(f"Demo login: {username} / {password}"))
