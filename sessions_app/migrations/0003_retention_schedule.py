"""The daily retention task, as a django-q2 schedule (named, so it is created once)."""

from django.db import migrations
from django.utils import timezone

NAME = "apply-retention"


def create_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name=NAME,
        defaults={
            "func": "sessions_app.tasks.apply_retention_task",
            "schedule_type": "D",  # daily
            "repeats": -1,
            "next_run": timezone.now().replace(hour=3, minute=30, second=0, microsecond=0),
        },
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("sessions_app", "0002_roles_audit_retention"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
