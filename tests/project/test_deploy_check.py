"""`manage.py check --deploy` is clean with a production environment (behind a TLS-terminating proxy), and the same
settings answer plain HTTP with a redirect and HTTPS (as the proxy tells it) with HSTS; with DEBUG on (`make run`)
plain HTTP at 127.0.0.1 is served as it is. Each in a subprocess: settings are read once, from the environment."""
import os
import secrets
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
OWN = ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "BEHIND_TLS_PROXY", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS",
       "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE",
       "FIELD_ENCRYPTION_KEYS",
       # (set in this process by the browser tests' fixture; never in a deployment)
       "DJANGO_ALLOW_ASYNC_UNSAFE")
# One request through the whole middleware stack, printed as "status Location Strict-Transport-Security".
REQUEST = """
import django, sys; django.setup()
from django.test import Client
response = Client().get("/accounts/login/", secure=False, headers=dict(a.split("=", 1) for a in sys.argv[2:]),
                        HTTP_HOST=sys.argv[1])
print(response.status_code, response.get("Location", "-"), response.get("Strict-Transport-Security", "-"))
"""


def production(tmp_path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in OWN}
    env.update(DEBUG="0", SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS="mail.example.test",
               BEHIND_TLS_PROXY="1", SECURE_HSTS_PRELOAD="1", DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
               FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
               DJANGO_SETTINGS_MODULE="mailsite.settings")
    env.update(extra)
    return env


def run(args, env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_check_deploy_prints_no_warning_in_production(tmp_path):
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


def test_check_deploy_would_say_so_without_the_redirect_or_hsts(tmp_path):
    """(The check above can fail: the same environment without them is warned about.)"""
    env = production(tmp_path, SECURE_SSL_REDIRECT="0", SECURE_HSTS_SECONDS="0")
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode != 0
    assert "security.W004" in result.stdout + result.stderr and "security.W008" in result.stdout + result.stderr


def test_production_redirects_plain_http_and_sends_hsts_over_https(tmp_path):
    env = production(tmp_path)
    plain = run(["-c", REQUEST, "mail.example.test"], env)
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout.split() == ["301", "https://mail.example.test/accounts/login/", "-"]
    proxied = run(["-c", REQUEST, "mail.example.test", "X-Forwarded-Proto=https"], env)
    assert proxied.returncode == 0, proxied.stderr
    status, _location, hsts = proxied.stdout.split(maxsplit=2)
    assert status == "200" and hsts.strip() == "max-age=31536000; includeSubDomains; preload"


def test_with_debug_on_plain_http_at_127_0_0_1_is_served(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in OWN}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", DJANGO_SETTINGS_MODULE="mailsite.settings")
    result = run(["-c", REQUEST, "127.0.0.1:8000"], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["200", "-", "-"]
