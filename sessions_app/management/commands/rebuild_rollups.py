from django.core.management.base import BaseCommand
from django.db.models import Max, Min

from sessions_app.management.commands._partners import partners_by_glance_ids
from sessions_app.models import Partner
from sessions_app.rollups import months, write


class Command(BaseCommand):
    help = (
        "Sum each partner's sessions into rollups again from the raw tables. Syncs, imports and "
        "retention keep rollups in step on their own; this is for a database changed by hand."
    )

    def add_arguments(self, parser):
        parser.add_argument("--partner", help="Glance partner ids, comma-separated (default: all)")

    def handle(self, *args, partner=None, **options):
        partners = partners_by_glance_ids(partner) if partner else Partner.objects.all()
        for one in partners:
            span = one.sessions.aggregate(first=Min("start_time"), last=Max("start_time"))
            tables = [table.model().objects.filter(partner=one) for table in write.TABLES]
            month_tables = [table.model().objects.filter(partner=one) for table in months.TABLES]
            if span["first"] is None:
                for rows in (*tables, *month_tables):
                    rows.delete()
                self.stdout.write(f"{one}: no sessions")
                continue
            # Rows outside the sessions' span can only be stale: rebuild() covers the span.
            first, last = span["first"].date(), span["last"].date()
            for rows in tables:
                rows.exclude(
                    day__gte=write.day_number(first), day__lte=write.day_number(last)
                ).delete()
            for rows in month_tables:
                rows.exclude(
                    day__gte=write.day_number(write.month_start(first)),
                    day__lte=write.day_number(last),
                ).delete()
            summed = write.rebuild(one.pk, first, last)  # marks its months stale
            months.compact(one.pk)
            self.stdout.write(f"{one}: {summed:,} sessions summed, {first} to {last}")
