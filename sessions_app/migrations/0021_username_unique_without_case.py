from django.db import migrations

# Usernames are unique whatever their case ("AnalystA" beside "analystA" would be two look-alike
# accounts): an index on the lower-cased name, which SQLite and PostgreSQL both build.
CREATE = "CREATE UNIQUE INDEX username_unique_without_case ON auth_user (LOWER(username))"
DROP = "DROP INDEX username_unique_without_case"


class Migration(migrations.Migration):
    dependencies = [
        ("sessions_app", "0020_export_job_partners"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunSQL(CREATE, DROP)]
