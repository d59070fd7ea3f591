"""A missing, malformed or wrong key is a start-up error: a system check error (`manage.py check`, runserver,
migrate) that the Celery worker also runs before it starts, never a silent empty password later."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from mailsite.mailboxes.checks import encryption_keys_check, secrets_ready
from mailsite.mailboxes.encryption import configured_keys

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db
NO_KEY = dict(FIELD_ENCRYPTION_KEYS=[], FIELD_ENCRYPTION_DEV_KEY_FILE=None)


def ids(messages):
    return [message.id for message in messages]


def test_the_keys_in_use_pass(alice):
    assert encryption_keys_check(databases=["default"]) == []
    secrets_ready()


def test_no_key_with_debug_off_is_an_error_that_says_how_to_make_one():
    with override_settings(**NO_KEY):
        errors = encryption_keys_check()
        assert ids(errors) == ["mailboxes.E001"]
        assert "FIELD_ENCRYPTION_KEYS is not set" in errors[0].msg and "Fernet.generate_key()" in errors[0].msg
        with pytest.raises(SystemCheckError, match="FIELD_ENCRYPTION_KEYS is not set"):
            call_command("check")


def test_a_malformed_key_is_an_error_naming_which():
    with override_settings(FIELD_ENCRYPTION_KEYS=[Fernet.generate_key().decode(), "not-a-key"]):
        errors = encryption_keys_check()
    assert ids(errors) == ["mailboxes.E001"] and "key 2 of 2 is not a Fernet key" in errors[0].msg


def test_a_key_that_does_not_decrypt_the_stored_passwords_is_an_error(alice, bob):
    account = bob.mail_accounts.get()
    with override_settings(FIELD_ENCRYPTION_KEYS=[Fernet.generate_key().decode()]):
        errors = encryption_keys_check(databases=["default"])
        assert ids(errors) == ["mailboxes.E002"]
        assert "cannot be decrypted" in errors[0].msg and "webmail_mailaccount.incoming_password" in errors[0].msg
        with pytest.raises(SystemCheckError, match="mailboxes.E002"):
            call_command("check", databases=["default"])
        assert encryption_keys_check() == []  # (a check that reads the database runs only when asked to)
    # The newest row is read too: a new key put first without rotating the old rows is fine (both decrypt)...
    new = Fernet.generate_key().decode()
    with override_settings(FIELD_ENCRYPTION_KEYS=[new, *configured_keys()]):
        account.incoming_password = "under the new key"
        account.save()
        assert encryption_keys_check(databases=["default"]) == []
    # ...but dropping the old key before rotate_keys ran is not.
    with override_settings(FIELD_ENCRYPTION_KEYS=[new]):
        assert ids(encryption_keys_check(databases=["default"])) == ["mailboxes.E002"]


def test_a_worker_without_a_key_stops_at_start_with_the_error(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "FIELD_ENCRYPTION_KEYS"}
    # Production settings, a Redis that is not there: the worker must stop before it ever connects.
    env.update(DEBUG="False", SECRET_KEY="x" * 50, ALLOWED_HOSTS="localhost", REDIS_URL="redis://127.0.0.1:9/0",
               DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    done = subprocess.run([sys.executable, "-m", "celery", "-A", "mailsite", "worker", "-P", "solo",
                           "--loglevel", "WARNING"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "mailboxes.E001: FIELD_ENCRYPTION_KEYS is not set" in done.stdout + done.stderr
