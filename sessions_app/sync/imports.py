"""Importing a file exported from the Activity Service (its JSON answer or its XML session
records) through the same upsert path as a sync. The whole file is read and checked before
anything is written, and written in one transaction: a bad file changes nothing."""

from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from sessions_app.glance.records import RecordError, sessions_from_file_bytes
from sessions_app.models import Partner, SyncRun
from sessions_app.rollups import months
from sessions_app.sync.ingest import WriteResult, store_sessions

_BATCH = 2000


class ImportRefused(Exception):
    """The file cannot be imported; the message says why and where."""


def import_file(partner: Partner, path: Path) -> tuple[SyncRun, WriteResult]:
    size = path.stat().st_size
    if size > settings.GLANCE_MAX_IMPORT_BYTES:
        raise ImportRefused(
            f"{path}: {size:,} bytes is over the import limit of "
            f"{settings.GLANCE_MAX_IMPORT_BYTES:,} (GLANCE_MAX_IMPORT_BYTES)"
        )
    try:
        records = sessions_from_file_bytes(path.read_bytes())
    except RecordError as exc:
        raise ImportRefused(f"{path}: {exc}") from None
    started = timezone.now()
    total = WriteResult()
    with transaction.atomic():
        for i in range(0, len(records), _BATCH):
            total += store_sessions(partner, records[i : i + _BATCH])
    if total.created or total.updated:
        months.compact(partner.pk)
    starts = [r.start_time for r in records]
    run = SyncRun.objects.create(
        partner=partner,
        trigger=SyncRun.Trigger.IMPORT,
        state=SyncRun.State.SUCCEEDED,
        window_start=min(starts, default=None),
        window_end=max(starts, default=None),
        started_at=started,
        finished_at=timezone.now(),
        pages=1,
        sessions_created=total.created,
        sessions_updated=total.updated,
    )
    return run, total
