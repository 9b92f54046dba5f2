"""Production settings refuse to start without real secrets and pass `check --deploy`."""

import os
import subprocess
import sys

from cryptography.fernet import Fernet

from tests.test_commands import ROOT

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
