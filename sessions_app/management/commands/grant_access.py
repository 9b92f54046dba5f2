from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from sessions_app.accounts import members
from sessions_app.management.commands._partners import partners_by_glance_ids
from sessions_app.models import Role


class Command(BaseCommand):
    help = "Grant a user a role on a partner, or revoke their access with --revoke."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--partner", required=True, metavar="N", help="Glance partner id")
        action = parser.add_mutually_exclusive_group(required=True)
        action.add_argument("--role", choices=Role.values)
        action.add_argument("--revoke", action="store_true")

    def handle(self, *args, username, partner, role, revoke, **options):
        (target,) = partners_by_glance_ids(partner)
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user {username!r}: create one with add_user")
        if revoke:
            if members.revoke(target, user):
                self.stdout.write(f"{username} no longer has access to {target.name}")
            else:
                self.stdout.write(f"{username} had no access to {target.name}; nothing changed")
            return
        members.grant(target, user, role)
        self.stdout.write(f"{username} is now {role} of {target.name}")
