from django.core.management.base import BaseCommand

from sessions_app.sync.retention import apply_retention


class Command(BaseCommand):
    help = "Clear guest IPs and contact details and delete sessions past each partner's retention."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="count, change nothing")

    def handle(self, *args, dry_run=False, **options):
        results = apply_retention(dry_run=dry_run)
        prefix = "would be (dry run): " if dry_run else ""
        for result in results:
            self.stdout.write(prefix + str(result))
        if not results:
            self.stdout.write("No partners.")
