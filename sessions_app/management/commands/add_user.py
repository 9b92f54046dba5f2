import getpass
import os
import sys

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from sessions_app.accounts import members
from sessions_app.management.commands._partners import partners_by_glance_ids
from sessions_app.models import Role


class Command(BaseCommand):
    help = "Create a user (or update one) with a role on one or more partners."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument(
            "--partners", required=True, metavar="N[,N…]", help="Glance partner ids"
        )
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--password-env", metavar="VAR", help="read the password from this variable"
        )

    def handle(self, *args, username, role, partners, email, password_env, **options):
        targets = partners_by_glance_ids(partners)
        try:
            username = members.normal_username(username)
        except members.BadUsername as exc:
            raise CommandError(str(exc)) from None
        user = members.user_named(username)
        password = self._password(password_env, required=user is None)
        with transaction.atomic():
            if user is None:
                user = members.create_user(username, email, password=password)
                verb = "Created"
            else:
                verb = "Updated"
                if email:
                    user.email = email
                if password:
                    user.set_password(password)
                user.save()
            for partner in targets:
                members.grant(partner, user, role)
        names = ", ".join(p.name for p in targets)
        self.stdout.write(f"{verb} user {username}: {role} of {names}")

    def _password(self, variable, required) -> str | None:
        if variable:
            password = os.environ.get(variable, "")
            if not password:
                raise CommandError(f"environment variable {variable} is empty or unset")
        elif sys.stdin.isatty():
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("the passwords differ")
        elif required:
            raise CommandError("give the password with --password-env VAR (no terminal to ask on)")
        else:
            return None
        try:
            validate_password(password)
        except ValidationError as invalid:
            raise CommandError(" ".join(invalid.messages)) from None
        return password
