# The scorecards read each agent's rollup rows (months where whole) and the sessions of one
# duration band per median (figures.scorecards), where every day row kept each session's
# (agent, duration) and (agent, wait): lists that grew with the data, were rewritten whole at
# every sync and could not be summed into month rows. Dropping them loses nothing: the rows'
# duration bands and waits, and the sessions themselves, answer the same medians exactly.
# The new session index is one agent's sessions by duration; on PostgreSQL it is built in one
# pass over the table, during which writes to the sessions wait. Migrating back to 0031 brings
# the two columns back empty: the code of before 0032 then needs `manage.py rebuild_rollups` to
# fill them, or its scorecards count only the sessions of the partial days.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('sessions_app', '0031_stale_month_end'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='agentrollup',
            name='agent_durations',
        ),
        migrations.RemoveField(
            model_name='agentrollup',
            name='agent_waits',
        ),
        migrations.RemoveField(
            model_name='sessionrollup',
            name='agent_durations',
        ),
        migrations.RemoveField(
            model_name='sessionrollup',
            name='agent_waits',
        ),
        migrations.AddIndex(
            model_name='agentrollup',
            index=models.Index(fields=['partner', 'day'], name='agent_rollup_partner_day_idx'),
        ),
        migrations.AddIndex(
            model_name='session',
            index=models.Index(fields=['agent', 'duration', 'start_time', 'partner', 'status', 'session_type'], name='session_agent_duration_idx'),
        ),
    ]
