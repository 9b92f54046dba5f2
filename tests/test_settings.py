"""Production settings refuse to start without real secrets and pass `check --deploy`; a
renamed variable still works under its old name, and says so."""

import os
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet

from tests.helpers.processes import ROOT

PRODUCTION = {
    "DEBUG": "False",
    "SECRET_KEY": "x7#kq2!vLp9@wZ3&nB5^mR8*tY4%hJ6(cF1)dS0-gA_eU+iO=yT~rE|wQ;zX:vC<bN>",
    "ALLOWED_HOSTS": "dash.example.com",
}


def manage(*args, **env):
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("SECRET_KEY", "FIELD_ENCRYPTION_KEY", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = manage("check", DEBUG="False")
    assert result.returncode != 0 and "set SECRET_KEY" in result.stderr


def test_production_refuses_to_start_without_an_encryption_key():
    result = manage("check", **{k: v for k, v in PRODUCTION.items()})
    assert result.returncode != 0 and "set FIELD_ENCRYPTION_KEY" in result.stderr


def test_production_settings_pass_check_deploy():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        FIELD_ENCRYPTION_KEY=Fernet.generate_key().decode(),
        **PRODUCTION,
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_a_renamed_variable_still_works_under_its_old_name_and_warns():
    show = "from django.conf import settings; print(settings.GLANCE_LIVE_COUNTS_TIMEOUT)"
    old = manage("shell", "-c", show, LIVE_COUNTS_TIMEOUT="7")
    assert old.returncode == 0, old.stderr
    assert "7.0" in old.stdout
    assert old.stderr.count("LIVE_COUNTS_TIMEOUT is deprecated: rename it to GLANCE_") == 1
    new = manage("shell", "-c", show, GLANCE_LIVE_COUNTS_TIMEOUT="8", LIVE_COUNTS_TIMEOUT="7")
    assert "8.0" in new.stdout and "deprecated" not in new.stderr


def test_the_old_name_warns_once_however_often_it_is_read(monkeypatch):
    from glancedash.settings import env, renamed

    monkeypatch.delenv("GLANCE_EXAMPLE_SECONDS", raising=False)
    monkeypatch.setenv("EXAMPLE_SECONDS", "3")
    with pytest.warns(FutureWarning, match="EXAMPLE_SECONDS is deprecated") as caught:
        assert renamed(env.int, "GLANCE_EXAMPLE_SECONDS", "EXAMPLE_SECONDS", default=1) == 3
        assert renamed(env.int, "GLANCE_EXAMPLE_SECONDS", "EXAMPLE_SECONDS", default=1) == 3
    assert len(caught) == 1
