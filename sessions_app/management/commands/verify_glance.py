from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from sessions_app.codes import SESSION_STATUSES, SESSION_TYPES, label
from sessions_app.glance.client import GlanceClient
from sessions_app.management.commands._timeparse import iso_moment
from sessions_app.models import CompletenessCheck, Partner
from sessions_app.sync import completeness
from sessions_app.sync.run import backfill_origin

State = CompletenessCheck.State


class Command(BaseCommand):
    help = (
        "Compare the stored sessions with Glance's own counts (PartnerSessionCounts), month by "
        "month, by type and status; exits non-zero if any month differs or cannot be checked."
    )

    def add_arguments(self, parser):
        parser.add_argument("--partner", type=int, metavar="N", help="Glance partner id")
        parser.add_argument(
            "--since",
            type=iso_moment,
            help="start (ISO; UTC unless a zone is given); default: where its syncs began",
        )
        parser.add_argument("--until", type=iso_moment, help="end (ISO; default now)")

    def handle(self, *args, **options):
        failures = []
        for partner in self._partners(options["partner"]):
            start, end = self._range(partner, options["since"], options["until"])
            self.stdout.write(f"{partner}: {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC")
            client = GlanceClient.for_partner(partner)
            for month_start, month_end in completeness.month_ranges(start, end):
                check = completeness.check_range(partner, month_start, month_end, client)
                self.stdout.write(_describe(check))
                if check.state != State.COMPLETE:
                    failures.append(f"{partner.name} {check.month:%Y-%m}: {check.state}")
        if failures:
            raise CommandError("not complete: " + "; ".join(failures))

    def _partners(self, glance_id):
        partners = Partner.objects.all()
        if glance_id is not None:
            partners = partners.filter(glance_partner_id=glance_id)
            if not partners:
                raise CommandError(f"no partner with Glance id {glance_id}")
        else:
            partners = partners.filter(enabled=True)
            if not partners:
                raise CommandError("no enabled partner: add one with add_partner")
        return list(partners)

    def _range(self, partner, since, until):
        now = timezone.now()
        end = min(until or now, now)
        start = since or completeness.synced_from(partner, now) or backfill_origin(partner, now)
        if start >= end:
            raise CommandError(f"--since ({start:%Y-%m-%d %H:%M}) must be before --until")
        return start, end


def _describe(check: CompletenessCheck) -> str:
    head = f"  {check.month:%Y-%m}  "
    if check.state == State.FAILED:
        return head + f"could not be checked: {check.error}"
    if check.state == State.COMPLETE:
        return head + f"complete: {check.stored:,} sessions, as Glance counts"
    lines = [
        head + f"MISMATCH: Glance counts {check.expected:,}, stored {check.stored:,} "
        f"({check.missing:,} missing, {check.extra:,} more than Glance's)"
    ]
    for group in check.groups:
        if group["expected"] != group["stored"]:
            kind = label(SESSION_TYPES, group["type"])
            what = f"{kind} / {label(SESSION_STATUSES, group['status'])}"
            lines.append(f"      {what}: Glance {group['expected']:,}, stored {group['stored']:,}")
    return "\n".join(lines)
