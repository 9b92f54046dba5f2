from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from sessions_app.models import Partner
from sessions_app.sync.imports import ImportRefused, import_file


class Command(BaseCommand):
    help = "Import Glance session records from a JSON answer or XML file (all or nothing)."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--partner", type=int, metavar="N", help="Glance partner id")

    def handle(self, *args, path: Path, partner: int | None, **options):
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        target = self._partner(partner)
        try:
            run, written = import_file(target, path)
        except ImportRefused as refused:
            raise CommandError(f"nothing imported: {refused}") from None
        self.stdout.write(
            f"Imported {path} into {target}: {run.sessions_created} new, "
            f"{run.sessions_updated} updated sessions"
        )
        if written.skipped:
            self.stdout.write(
                f"Skipped {written.skipped} sessions older than {target.name} keeps sessions "
                f"({target.retain_sessions_days} days)."
            )

    def _partner(self, glance_id):
        if glance_id is not None:
            found = Partner.objects.filter(glance_partner_id=glance_id).first()
            if found is None:
                raise CommandError(f"no partner with Glance id {glance_id}")
            return found
        partners = list(Partner.objects.all()[:2])
        if len(partners) != 1:
            raise CommandError(
                "name the partner with --partner N"
                if partners
                else "no partner yet: add one with add_partner"
            )
        return partners[0]
