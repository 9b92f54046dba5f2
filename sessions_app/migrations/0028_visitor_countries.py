"""Each session keeps its visitors' country codes as exports show them (Session.
visitor_countries), written at ingest. The column has a default in the database, so a worker
still running the code before it goes on adding sessions; 0029 fills in the sessions stored
before."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("sessions_app", "0027_quick_sync"),
    ]

    operations = [
        migrations.AddField(
            model_name="session",
            name="visitor_countries",
            field=models.TextField(blank=True, db_default="", default="", editable=False),
        ),
    ]
