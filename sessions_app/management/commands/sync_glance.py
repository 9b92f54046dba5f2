from django.core.management.base import BaseCommand, CommandError
from django.db import OperationalError

from sessions_app.management.commands._timeparse import iso_moment
from sessions_app.models import Partner, SyncRun
from sessions_app.sync.run import Progress, SyncBusy, sync_partner
from sessions_app.tasks import sync_summary


class Command(BaseCommand):
    help = "Sync Glance sessions now, in the foreground (all enabled partners, or one)."

    def add_arguments(self, parser):
        parser.add_argument("--partner", type=int, metavar="N", help="Glance partner id")
        parser.add_argument(
            "--since", type=iso_moment, help="start (ISO; UTC unless a zone is given)"
        )
        parser.add_argument("--until", type=iso_moment, help="end (ISO; default now)")

    def handle(self, *args, **options):
        partners = self._partners(options["partner"])
        failures = []
        for partner in partners:
            bar = _ProgressBar(self.stdout) if self.stdout.isatty() else None
            try:
                run = sync_partner(
                    partner,
                    trigger=SyncRun.Trigger.COMMAND,
                    since=options["since"],
                    until=options["until"],
                    on_progress=bar.update if bar else None,
                )
            except SyncBusy as busy:
                failures.append(str(busy))
                continue
            except OperationalError as exc:
                # SQLite's write lock held past the busy timeout (another writer, a backup): what
                # was written is whole pages, and the next sync resumes from the watermark.
                failures.append(
                    f"{partner}: the database is busy or locked ({exc}); every page written "
                    "before it is kept whole, and the next sync resumes from there"
                )
                continue
            finally:
                if bar:
                    bar.close()
            if run.state == SyncRun.State.FAILED:
                failures.append(sync_summary(run))
            else:
                self.stdout.write(sync_summary(run))
        if failures:
            raise CommandError("; ".join(failures))

    def _partners(self, glance_id):
        if glance_id is None:
            partners = list(Partner.objects.filter(enabled=True))
            if not partners:
                raise CommandError("no enabled partner: add one with add_partner")
            return partners
        partner = Partner.objects.filter(glance_partner_id=glance_id).first()
        if partner is None:
            raise CommandError(f"no partner with Glance id {glance_id}")
        return [partner]


class _ProgressBar:
    """One redrawn terminal line: windows done, pages and sessions so far."""

    WIDTH = 30

    def __init__(self, out):
        self.out = out
        self.drawn = False

    def update(self, progress: Progress):
        total = max(progress.windows_total, 1)
        filled = round(self.WIDTH * progress.windows_done / total)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        day = progress.window[0].strftime("%Y-%m-%d")
        line = (
            f"\r[{bar}] window {min(progress.windows_done + 1, total)}/{total} from {day}"
            f" · {progress.pages} pages · {progress.sessions:,} sessions"
        )
        self.out.write(line, ending="")
        self.out.flush()
        self.drawn = True

    def close(self):
        if self.drawn:
            self.out.write("")
