# The next month's first day beside each stale month, so that a read finds the days of every
# stale month with one correlated test (figures.selection.coarse_parts) instead of a UNION part
# per month, which SQLite caps at 500.

from django.db import migrations, models


def fill_ends(apps, schema_editor):
    from datetime import date, timedelta

    StaleRollupMonth = apps.get_model("sessions_app", "StaleRollupMonth")
    epoch = date(1970, 1, 1)
    for stale in StaleRollupMonth.objects.all():
        first = epoch + timedelta(days=stale.day)
        following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
        stale.end = (following - epoch).days
        stale.save(update_fields=["end"])


class Migration(migrations.Migration):
    dependencies = [
        ("sessions_app", "0030_monthly_rollups"),
    ]

    operations = [
        migrations.AddField(
            model_name="stalerollupmonth",
            name="end",
            field=models.IntegerField(default=0, help_text="the next month's first UTC day"),
            preserve_default=False,
        ),
        migrations.RunPython(fill_ends, migrations.RunPython.noop),
    ]
