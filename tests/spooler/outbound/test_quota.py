"""The per-user sending quota: counted from the user's outbox rows in the last hour and day, over it nothing is
written; the administrator's overrides; site mail and cancelled messages not counted."""
from datetime import timedelta

import pytest
from django.core import mail as django_mail
from django.utils import timezone

from spooler.models import OutboxMessage, OutboxStatus, SendingQuota
from spooler.services.outbound.enqueue import outbox_enqueue
from spooler.services.outbound.quota import SendingQuotaExceeded, sending_quota_over
from spooler.sessions import Email
from tests.fixtures.users import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def quota(settings):
    settings.SEND_QUOTA_MESSAGES_PER_HOUR = 3
    settings.SEND_QUOTA_RECIPIENTS_PER_HOUR = 6
    settings.SEND_QUOTA_MESSAGES_PER_DAY = 5
    settings.SEND_QUOTA_RECIPIENTS_PER_DAY = 10
    return settings


def send(user, recipients=1, *, ago=timedelta(0)):
    email = Email(sender="alice@example.test", to=[f"r{i}@example.test" for i in range(recipients)], subject="s",
                  text="t")
    row = outbox_enqueue(email=email, user=user)
    if ago:
        OutboxMessage.objects.filter(id=row.id).update(created_at=timezone.now() - ago)
    return row


def test_messages_per_hour_stops_the_next_message_and_writes_nothing(quota):
    alice = make_user("alice")
    for _ in range(3):
        send(alice)
    with pytest.raises(SendingQuotaExceeded) as refused:
        send(alice)
    assert "3 messages per hour" in refused.value.message
    assert 0 < refused.value.retry_after <= 3600
    assert OutboxMessage.objects.count() == 3


def test_recipients_per_hour_count_each_envelope_recipient(quota):
    alice = make_user("alice")
    send(alice, 4)
    with pytest.raises(SendingQuotaExceeded) as refused:
        send(alice, 3)  # 7 > 6
    assert "6 recipients per hour" in refused.value.message
    send(alice, 2)  # 6: at the limit, allowed


def test_an_hour_later_the_hourly_limit_is_free_but_the_day_counts(quota):
    alice = make_user("alice")
    for _ in range(3):
        send(alice, ago=timedelta(minutes=61))
    send(alice)
    send(alice)  # 5 today
    with pytest.raises(SendingQuotaExceeded) as refused:
        send(alice)
    assert "5 messages per day" in refused.value.message
    bob = make_user("bob")
    for _ in range(3):
        send(bob)  # another user's: not alice's quota


def test_recipients_per_day(quota):
    alice = make_user("alice")
    send(alice, 5, ago=timedelta(hours=3))
    send(alice, 5, ago=timedelta(hours=2))
    with pytest.raises(SendingQuotaExceeded, match="10 recipients per day"):
        send(alice)


def test_rows_older_than_a_day_and_cancelled_ones_are_not_counted(quota):
    alice = make_user("alice")
    for _ in range(5):
        send(alice, ago=timedelta(hours=24, minutes=1))
    undone = [send(alice) for _ in range(3)]
    OutboxMessage.objects.filter(id__in=[r.id for r in undone]).update(status=OutboxStatus.CANCELLED)
    for _ in range(3):
        send(alice)


def test_the_administrator_can_raise_lower_or_lift_it_per_user(quota):
    alice, bob = make_user("alice"), make_user("bob")
    SendingQuota.objects.create(user=alice, messages_per_hour=1)
    send(alice)
    with pytest.raises(SendingQuotaExceeded, match="1 messages per hour"):
        send(alice)
    SendingQuota.objects.create(user=bob, unlimited=True)
    for _ in range(12):
        send(bob, 2)
    SendingQuota.objects.filter(user=alice).update(messages_per_hour=None, messages_per_day=None)
    send(alice)  # back to the site's 3 per hour


def test_zero_is_no_limit(settings):
    settings.SEND_QUOTA_MESSAGES_PER_HOUR = settings.SEND_QUOTA_MESSAGES_PER_DAY = 0
    settings.SEND_QUOTA_RECIPIENTS_PER_HOUR = settings.SEND_QUOTA_RECIPIENTS_PER_DAY = 0
    alice = make_user("alice")
    for _ in range(3):
        send(alice, 3)
    assert sending_quota_over(user_id=alice.id, recipients=10_000, now=timezone.now()) is None


def test_site_mail_is_not_counted(quota):
    quota.EMAIL_BACKEND = "spooler.backend.EmailBackend"  # (pytest-django swaps in locmem)
    for _ in range(8):  # through spooler/backend.py: user=None
        django_mail.send_mail("Reset", "text", "site@example.test", ["someone@example.test"])
    assert OutboxMessage.objects.filter(user=None).count() == 8
    alice = make_user("alice")
    send(alice)


@pytest.mark.django_db(transaction=True)
def test_two_sends_at_the_edge_at_once_only_one_passes(quota):
    """The second send waits for the first one's transaction (the lock on the user's row; SQLite: its write lock)
    and then counts it: over the quota."""
    import threading
    import time

    from django.db import connection, transaction

    quota.SEND_QUOTA_MESSAGES_PER_HOUR = 1
    alice = make_user("alice")
    first_written, outcome = threading.Event(), {}

    def first():
        try:
            with transaction.atomic():
                send(alice)
                first_written.set()
                time.sleep(0.5)  # the second send starts while this transaction is still open
        finally:
            connection.close()

    def second():
        first_written.wait()
        try:
            send(alice)
            outcome["second"] = "sent"
        except SendingQuotaExceeded:
            outcome["second"] = "refused"
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcome == {"second": "refused"}
    assert OutboxMessage.objects.filter(user=alice).count() == 1
