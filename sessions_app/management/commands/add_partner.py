import os
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from sessions_app.accounts import partners
from sessions_app.models import Partner


class Command(BaseCommand):
    help = (
        "Create a Glance partner and its API key; with --update, change the one with that partner "
        "id (it says who has access to its data)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--partner-id", type=int, required=True, help="Glance group id")
        parser.add_argument(
            "--update",
            action="store_true",
            help="change the existing partner with this id (never taken implicitly: whoever has "
            "access to it will see the data its key brings)",
        )
        key = parser.add_mutually_exclusive_group()
        key.add_argument("--api-key", help="visible in the process list; prefer --api-key-env")
        key.add_argument("--api-key-env", metavar="VAR", help="read the key from this variable")
        parser.add_argument("--api-url", help="Activity Service endpoint (default: Glance's)")
        parser.add_argument("--backfill-from", type=date.fromisoformat, metavar="YYYY-MM-DD")
        parser.add_argument("--interval", type=int, metavar="MINUTES", help="sync interval")
        parser.add_argument("--disabled", action="store_true", help="store it without syncing")

    def handle(self, *args, **options):
        api_key = self._api_key(options)
        partner = Partner.objects.filter(glance_partner_id=options["partner_id"]).first()
        created = partner is None
        if partner is not None and not options["update"]:
            raise CommandError(
                f"a partner with Glance id {partner.glance_partner_id} already exists: "
                f"{partner.name}, {self._access(partner)}. Pass --update to change it, once you "
                "are sure those users should see the data its key brings."
            )
        if created and options["update"]:
            raise CommandError(f"no partner with Glance id {options['partner_id']} to update")
        if created:
            if not api_key:
                raise CommandError("a new partner needs --api-key or --api-key-env")
            partner = Partner(glance_partner_id=options["partner_id"])
        partner.name = options["name"]
        if api_key:
            partner.set_api_key(api_key)
        if options["api_url"]:
            partner.api_url = options["api_url"]
        if options["backfill_from"]:
            partner.backfill_start = options["backfill_from"]
        if options["interval"]:
            partner.sync_interval_minutes = options["interval"]
        partner.enabled = not options["disabled"]
        partner.full_clean(exclude=["api_key_encrypted"])
        partners.save_by_operator(partner, created=created, key_changed=bool(api_key))
        verb = "Created" if created else "Updated"
        self.stdout.write(
            f"{verb} partner {partner} (key {partner.api_key_hint}, {partner.api_url}); "
            f"{self._access(partner)}"
        )

    @staticmethod
    def _access(partner) -> str:
        """Who sees the partner's data: its members and their roles (superusers see all)."""
        members = [
            f"{m.user.username} ({m.role})" for m in partner.memberships.select_related("user")
        ]
        return f"access: {', '.join(members)}" if members else "access: superusers only"

    def _api_key(self, options) -> str:
        if options["api_key_env"]:
            value = os.environ.get(options["api_key_env"], "")
            if not value:
                raise CommandError(
                    f"environment variable {options['api_key_env']} is empty or unset"
                )
            return value
        return options["api_key"] or ""
