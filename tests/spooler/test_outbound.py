"""The outbound spool against the real sandbox SMTP server (aiosmtpd), without Celery."""
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from spooler.models import OutboxMessage
from spooler.services import outbound
from spooler.sessions import Email
from tests.fixtures.celery_worker import point_at
from tests.fixtures.net import free_port
from tests.fixtures.users import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def sender(db, mail_sandbox):
    return make_user("sender", sandbox=mail_sandbox)


def enqueue(user, to, subject="Hello", text="Grüße aus Köln ✓"):
    account = user.mail_accounts.get()
    email = Email(sender=account.from_header, to=to, subject=subject, text=text)
    return outbound.outbox_enqueue(email=email, relay=account, user=user)


def test_enqueue_publishes_only_after_commit(sender, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        row = enqueue(sender, ["someone@example.test"])
    assert row.status == "queued" and len(callbacks) == 1
    assert callbacks[0] == outbound.outbox_wake


def test_wake_with_redis_down_returns_fast_and_raises_nothing(celery_broker, settings):
    point_at(celery_broker, f"redis://127.0.0.1:{free_port()}/0")
    try:
        started = time.monotonic()
        outbound.outbox_wake()
        assert time.monotonic() - started < 1.0
    finally:
        point_at(celery_broker)


def test_deliver_due_sends_to_the_mailbox(sender, mail_sandbox):
    rcpt = make_user("rcpt", sandbox=mail_sandbox).mail_accounts.get().address
    row = enqueue(sender, [rcpt], subject="Spooled ✓")
    assert outbound.outbox_deliver_due() == 1
    row.refresh_from_db()
    assert row.status == "sent" and row.attempts == 1 and row.last_code == 250
    assert row.delivery_attempts.get().code == 250
    files = list((mail_sandbox.maildir(rcpt) / "new").iterdir())
    assert len(files) == 1 and row.message_id.encode() in files[0].read_bytes()
    assert outbound.outbox_deliver_due() == 0  # nothing is sent twice


def test_claim_never_gives_a_row_twice(sender):
    rows = [enqueue(sender, ["x@example.test"]) for _ in range(5)]
    first = outbound.outbox_claim(limit=3)
    second = outbound.outbox_claim(limit=10)
    assert len(first) == 3 and len(second) == 2
    assert {r.id for r in first} | {r.id for r in second} == {r.id for r in rows}
    assert outbound.outbox_claim(limit=10) == []


def test_unreachable_relay_defers_with_backoff(sender):
    account = sender.mail_accounts.get()
    account.smtp_port = free_port()  # nothing listens there
    account.save()
    row = enqueue(sender, ["x@example.test"])
    outbound.outbox_deliver_due()
    row.refresh_from_db()
    assert row.status == "deferred" and row.attempts == 1
    assert row.next_attempt_at > timezone.now() + timedelta(minutes=4)
    assert row.delivery_attempts.count() == 1
    assert outbound.outbox_claim(limit=10) == []  # not due before the backoff ends


def test_refused_recipient_fails_permanently(sender):
    row = enqueue(sender, ["nobody@elsewhere.invalid"])
    outbound.outbox_deliver_due()
    row.refresh_from_db()
    assert row.status == "failed" and 500 <= row.last_code < 600


def test_retry_delay_doubles_and_is_capped(settings):
    settings.SPOOL_RETRY_BASE_SECONDS = 300
    settings.SPOOL_RETRY_MAX_SECONDS = 4000
    assert [outbound.retry_delay(n).total_seconds() for n in (1, 2, 3, 4, 5, 6)] == [300, 600, 1200, 2400, 4000, 4000]


def test_sweeper_requeues_rows_whose_lease_ran_out(sender):
    row = enqueue(sender, ["x@example.test"])
    assert outbound.outbox_claim(limit=1)
    OutboxMessage.objects.filter(id=row.id).update(lease_until=timezone.now() - timedelta(seconds=1))
    assert outbound.outbox_sweep() == 1
    row.refresh_from_db()
    assert row.status == "queued"


def test_site_mail_goes_through_the_spool(db, settings):
    from mailsite import settings as site_settings

    assert site_settings.EMAIL_BACKEND == "spooler.backend.EmailBackend"
    settings.EMAIL_BACKEND = site_settings.EMAIL_BACKEND  # pytest-django swaps in locmem for tests
    sent = mail.send_mail("Password reset", "Click here", "noreply@example.test", ["user@example.test"])
    assert sent == 1
    row = OutboxMessage.objects.get()
    assert row.relay is None and row.recipients == ["user@example.test"] and row.subject == "Password reset"
    assert b"Click here" in bytes(row.raw)
