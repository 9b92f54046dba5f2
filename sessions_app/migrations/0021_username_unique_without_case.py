from django.db import migrations

# Usernames are unique whatever their case ("AnalystA" beside "analystA" would be two look-alike
# accounts): an index on the lower-cased name, which SQLite and PostgreSQL both build.
CREATE = "CREATE UNIQUE INDEX username_unique_without_case ON auth_user (LOWER(username))"
DROP = "DROP INDEX username_unique_without_case"


def refuse_look_alikes(apps, schema_editor):
    """Names that differ only in case must be resolved by an operator before the index: say which."""
    from collections import defaultdict

    names = defaultdict(list)
    for name in apps.get_model("auth", "User").objects.values_list("username", flat=True):
        names[name.lower()].append(name)
    clashes = [group for group in names.values() if len(group) > 1]
    if clashes:
        listed = "; ".join(", ".join(group) for group in clashes)
        raise RuntimeError(
            f"usernames that differ only in case: {listed}. Rename or remove all but one of each "
            "(manage.py shell, or the Django admin), then migrate again."
        )


class Migration(migrations.Migration):
    dependencies = [
        ("sessions_app", "0020_export_job_partners"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.RunPython(refuse_look_alikes, migrations.RunPython.noop),
        migrations.RunSQL(CREATE, DROP),
    ]
