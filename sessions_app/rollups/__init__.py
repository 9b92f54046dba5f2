"""Rollups: per-day sums of the sessions (write.py keeps them in step with every write) and the
UTC quarter hours that let them answer in any time zone (local_time.py).

The migrations call only `rebuild_for_migration`, so everything else here may change freely.
"""

from django.apps.registry import Apps

from sessions_app.rollups import write

_TABLES = {"partner": write.PARTNER_ROWS, "agent": write.AGENT_ROWS}


def rebuild_for_migration(apps: Apps, tables: tuple[str, ...] = ("partner", "agent")) -> None:
    """Rebuilds the named rollup tables ("partner", "agent") of every partner from the sessions,
    with the migration's historical models: what a migration that adds a rollup measure runs."""
    write.rebuild_everything(apps, tables=tuple(_TABLES[name] for name in tables))
