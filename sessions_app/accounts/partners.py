"""Partners' own records, with their credentials: saved by an admin's form (our pages or the
Django admin) or by the operator's add_partner command, each save and its audit records in one
transaction; and an admin's request for a sync now."""

from django.db import transaction
from django.db.models import F

from sessions_app.accounts import audit
from sessions_app.models import Partner, SyncRun
from sessions_app.queueing import queue_in_transaction

Action = audit.Action


def save_partner(form, *, request) -> Partner:
    """Saves a PartnerForm: what changed is audited, and whether the API key was replaced, never
    the key itself (audit.partner_saved)."""
    created = form.instance.pk is None
    with transaction.atomic():
        partner = form.save()
        if {"service_level_seconds", "service_level_percent"} & set(form.changed_data):
            # Cached charts are keyed by the data's generation: a new target redraws them.
            Partner.objects.filter(pk=partner.pk).update(data_generation=F("data_generation") + 1)
        audit.partner_saved(request, partner, form, created=created)
    return partner


def save_by_operator(partner: Partner, *, created: bool, key_changed: bool) -> Partner:
    """Saves a partner set up at the command line (add_partner): the operator is the actor."""
    with transaction.atomic():
        partner.save()
        if created:
            audit.record(
                Action.PARTNER_CREATED,
                f"partner {partner} created",
                partner=partner,
                actor_name="manage.py",
            )
            return partner
        audit.record(
            Action.PARTNER_CHANGED,
            f"{partner.name}: updated by add_partner",
            partner=partner,
            actor_name="manage.py",
        )
        if key_changed:
            audit.record(
                Action.API_KEY_CHANGED,
                f"{partner.name}: API key replaced",
                partner=partner,
                actor_name="manage.py",
            )
    return partner


def request_sync(partner: Partner, *, request) -> None:
    """Queues a sync of the partner for the background worker. Audited first: with the queue in
    the database (no Redis), the task and its audit record are written together or not at all."""
    with transaction.atomic():
        audit.record(
            Action.SYNC_REQUESTED,
            f"{partner.name}: sync requested",
            request=request,
            partner=partner,
        )
        queue_in_transaction(
            "sessions_app.tasks.sync_partner_task", partner.pk, SyncRun.Trigger.MANUAL
        )
