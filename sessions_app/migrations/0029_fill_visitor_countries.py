"""The sessions stored before 0028 get their visitors' country codes from their guests, in
Python on either database so the codes come out exactly as ingest writes them
(models.sessions.countries_of, as of this migration). Not one transaction: each batch commits
on its own, so a large table is never locked for the whole fill, and a fill interrupted part
way is simply run again."""

from itertools import groupby

from django.db import migrations, transaction

SUBSCRIBER_GUEST_TYPES = ("agent", "host")  # codes.SUBSCRIBER_GUEST_TYPES, as of this migration
BATCH = 5000  # session ids a transaction


def fill_visitor_countries(apps, schema_editor):
    """By ranges of session ids: each range's located guests read whole, then its sessions
    written in one transaction."""
    Guest = apps.get_model("sessions_app", "Guest")
    Session = apps.get_model("sessions_app", "Session")
    connection = schema_editor.connection
    table = schema_editor.quote_name(Session._meta.db_table)
    sql = f"UPDATE {table} SET visitor_countries = %s WHERE id = %s"  # noqa: S608
    last = Session.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    for low in range(0, last + 1, BATCH):
        located = (
            Guest.objects.filter(session_id__gte=low, session_id__lt=low + BATCH)
            .exclude(country_code__isnull=True)
            .exclude(country_code="")
            .order_by("session_id")
            .values_list("session_id", "guest_type", "country_code")
        )
        rows = []
        for session, guests in groupby(located, key=lambda row: row[0]):
            found = {c.upper() for _, kind, c in guests if kind not in SUBSCRIBER_GUEST_TYPES}
            if found:
                rows.append((" ".join(sorted(found)), session))
        if rows:
            with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
                cursor.executemany(sql, rows)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("sessions_app", "0028_visitor_countries"),
    ]

    operations = [
        migrations.RunPython(fill_visitor_countries, migrations.RunPython.noop, elidable=True),
    ]
