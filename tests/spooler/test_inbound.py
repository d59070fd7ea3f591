"""Polling a real Dovecot (the sandbox) into the database, without Celery."""
import time
from pathlib import Path

import pytest

from mailsite.webmail.models import Message
from spooler.services.inbound import account_poll
from tests.fixtures.users import make_user

pytestmark = pytest.mark.django_db
CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"


@pytest.fixture
def reader(db, mail_sandbox):
    return make_user("reader", sandbox=mail_sandbox)


def deliver(sandbox, user, raw: bytes):
    sandbox.deliver(user.mail_accounts.get().address, raw)


def poll(user):
    account = user.mail_accounts.get()
    stored = account_poll(account_id=account.id)
    account.refresh_from_db()
    return stored, account


def test_poll_stores_new_mail_once(reader, mail_sandbox):
    for n in range(3):
        deliver(mail_sandbox, reader, f"From: a@example.test\r\nSubject: n{n}\r\n\r\nbody {n}\r\n".encode())
    stored, account = poll(reader)
    assert stored == 3 and account.last_poll_error == "" and account.last_polled_at
    assert sorted(Message.objects.values_list("subject", flat=True)) == ["n0", "n1", "n2"]
    assert poll(reader)[0] == 0  # left on the server, and not stored twice
    deliver(mail_sandbox, reader, b"Subject: n3\r\n\r\nlater\r\n")
    assert poll(reader)[0] == 1
    assert Message.objects.count() == 4


def test_one_poll_per_account_at_a_time(reader):
    from django.utils import timezone

    account = reader.mail_accounts.get()
    account.poll_lease_until = timezone.now() + timezone.timedelta(minutes=5)
    account.save()
    assert account_poll(account_id=account.id) is None


def test_wrong_password_is_recorded_in_plain_words(reader):
    account = reader.mail_accounts.get()
    account.incoming_password = "wrong"
    account.save()
    stored, account = poll(reader)
    assert stored == 0
    assert account.last_poll_error and str(account.incoming_port) in account.last_poll_error


def test_corpus_mailbox_is_stored_whole(reader, mail_sandbox):
    files = sorted((CORPUS / "eml").glob("*.eml")) + sorted((CORPUS / "eml-html").glob("*.eml"))
    for path in files:
        deliver(mail_sandbox, reader, path.read_bytes())
    deliver(mail_sandbox, reader, b"Subject: normal after the corpus\r\n\r\nfine\r\n")
    started = time.monotonic()
    stored, account = poll(reader)
    assert account.last_poll_error == ""
    assert stored == len(files) + 1
    assert Message.objects.filter(subject="normal after the corpus").exists()
    assert time.monotonic() - started < 60
