"""Fresh within two minutes: a record fingerprint on each recent session (a re-read that matches
it writes nothing), the quick trigger, and for each enabled partner a quick-pass schedule
beside its full one. A partner still at the old default interval of 15 minutes moves to the new
hourly full pass: the quick pass now keeps it current, at fewer Glance calls an hour."""

from datetime import timedelta

from django.conf import settings
from django.db import migrations, models
from django.utils import timezone

OLD_DEFAULT, NEW_DEFAULT = 15, 60


def schedule_quick_passes(apps, schema_editor):
    Partner = apps.get_model("sessions_app", "Partner")
    Schedule = apps.get_model("django_q", "Schedule")
    minutes = settings.GLANCE_QUICK_SYNC_MINUTES
    for partner in Partner.objects.filter(enabled=True):
        if partner.sync_interval_minutes == OLD_DEFAULT:
            partner.sync_interval_minutes = NEW_DEFAULT
            partner.save(update_fields=["sync_interval_minutes"])
            Schedule.objects.filter(name=f"glance-sync-partner-{partner.pk}").update(
                minutes=NEW_DEFAULT
            )
        if minutes > 0:
            Schedule.objects.update_or_create(
                name=f"glance-quick-sync-partner-{partner.pk}",
                defaults={
                    "func": "sessions_app.tasks.quick_sync_partner_task",
                    "args": repr((partner.pk,)),
                    "schedule_type": "I",  # every `minutes`
                    "minutes": minutes,
                    "repeats": -1,
                    "next_run": timezone.now() + timedelta(minutes=minutes),
                },
            )


def unschedule_quick_passes(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(
        name__startswith="glance-quick-sync-partner-"
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("sessions_app", "0026_report_to_owner"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [
        migrations.AddField(
            model_name="session",
            name="fingerprint",
            field=models.BigIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.AlterField(
            model_name="syncrun",
            name="trigger",
            field=models.CharField(
                choices=[
                    ("schedule", "Schedule"),
                    ("quick", "Quick"),
                    ("manual", "Manual"),
                    ("command", "Command"),
                    ("import", "Import"),
                ],
                max_length=16,
            ),
        ),
        migrations.RunPython(schedule_quick_passes, unschedule_quick_passes),
    ]
