"""For tests that start a real process (manage.py, a django-q2 cluster) on the test database."""

from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]  # where manage.py is


def database_url():
    """The test database, for a subprocess to share (under pytest-xdist, this worker's own)."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    return f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"
