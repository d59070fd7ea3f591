import json

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.test import RequestFactory
from django_otp import user_has_device

from mailsite.mailboxes.models import MailAccount
from spooler.devmail import sandbox_from_settings

# A login's request: authentication goes through django-axes, which counts failures per request's client.
LOGIN = RequestFactory().post("/accounts/login/")

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_settings(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.DEVMAIL_DIR = tmp_path / "devmail"
    return settings


def test_demo_setup_is_idempotent_and_prints_working_passwords(demo_settings, capsys):
    call_command("demo_setup")
    first = capsys.readouterr().out
    call_command("demo_setup")
    second = capsys.readouterr().out
    assert first == second  # the same passwords on every start
    creds = json.loads((demo_settings.VAR_DIR / "demo-credentials.json").read_text())
    assert (demo_settings.VAR_DIR / "demo-credentials.json").stat().st_mode & 0o077 == 0
    for name in ("alice", "bob", "admin"):
        assert f"{name:<6} password: {creds[name]}" in first
        assert authenticate(LOGIN, username=name, password=creds[name]) is not None
    assert authenticate(LOGIN, username="admin", password=creds["admin"]).is_superuser
    assert not any(user_has_device(user, confirmed=None) for user in get_user_model().objects.all())  # (no 2FA)
    assert MailAccount.objects.count() == 2
    alice = MailAccount.objects.get(address="alice@example.test")
    assert alice.incoming_port == demo_settings.DEVMAIL_POP3_PORT and alice.smtp_port == demo_settings.DEVMAIL_SMTP_PORT
    assert sandbox_from_settings().users().keys() >= {"alice@example.test", "bob@example.test"}
