"""Serves plotly.js from the installed plotly package as static/vendor/plotly/plotly.min.js, so the
browser always draws with the exact version plotly.py builds figures for, and the 4.8 MB bundle
is not kept in the repository. collectstatic copies it like any other static file."""

from pathlib import Path

import plotly
from django.contrib.staticfiles import utils
from django.contrib.staticfiles.finders import BaseFinder
from django.core.checks import Error
from django.core.files.storage import FileSystemStorage

PREFIX = "vendor/plotly"
FILENAME = "plotly.min.js"
STATIC_PATH = f"{PREFIX}/{FILENAME}"
SOURCE = Path(plotly.__file__).parent / "package_data" / FILENAME


class PlotlyJsFinder(BaseFinder):
    def check(self, **kwargs):
        if not SOURCE.is_file():
            return [Error(f"plotly.js is missing from the plotly package: {SOURCE} not found.")]
        return []

    # Django 5.2 renamed find()'s `all` to `find_all`; the base class still accepts `all`, with a
    # deprecation warning, until Django 6.1.
    def find(self, path, find_all=False, **kwargs):
        if kwargs:
            find_all = self._check_deprecated_find_param(find_all=find_all, **kwargs)
        if path.replace("\\", "/") == STATIC_PATH and SOURCE.is_file():
            return [str(SOURCE)] if find_all else str(SOURCE)
        return [] if find_all else None

    def list(self, ignore_patterns):
        if ignore_patterns and utils.matches_patterns(FILENAME, ignore_patterns):
            return
        storage = FileSystemStorage(location=str(SOURCE.parent))
        storage.prefix = PREFIX  # collectstatic and whitenoise put the file under this path
        yield FILENAME, storage
