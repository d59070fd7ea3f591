"""Settings come only from the environment; production values have no default."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def load_settings(env_extra):
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "ALLOWED_HOSTS", "DEBUG")}
    env.update(env_extra)
    code = "import django; django.setup(); from django.conf import settings; print(settings.SECRET_KEY[:4])"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**env, "DJANGO_SETTINGS_MODULE": "mailsite.settings"},
                          capture_output=True, text=True, timeout=60)


def test_production_needs_secret_key_and_allowed_hosts():
    missing_key = load_settings({"DEBUG": "0", "ALLOWED_HOSTS": "mail.example.test"})
    assert missing_key.returncode != 0 and "SECRET_KEY" in missing_key.stderr
    missing_hosts = load_settings({"DEBUG": "0", "SECRET_KEY": "s" * 50})
    assert missing_hosts.returncode != 0 and "ALLOWED_HOSTS" in missing_hosts.stderr
    ok = load_settings({"DEBUG": "0", "SECRET_KEY": "prod" + "s" * 50, "ALLOWED_HOSTS": "mail.example.test"})
    assert ok.returncode == 0 and ok.stdout.strip() == "prod"


def test_defaults_run_locally_with_no_environment():
    assert load_settings({}).returncode == 0


@pytest.mark.django_db
def test_sqlite_runs_in_wal_mode():
    if connection.vendor != "sqlite":
        assert connection.vendor == "postgresql"
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
