""""Check now" is limited: one queued poll per account at a time, MAIL_CHECK_NOW_PER_MINUTE asks per user."""
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from mailsite.celery import app as celery_app
from mailsite.mailboxes.models import MailAccount
from spooler.models import CheckNowRequest
from spooler.services.inbound.lease import PollLease
from tests.fixtures.users import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(monkeypatch):
    sent = []
    monkeypatch.setattr(celery_app, "send_task", lambda name, args, kwargs, retry, **options: sent.append(args[0]))
    return sent


def check(client):
    return client.post(reverse("webmail:check_now"), HTTP_ACCEPT="application/json")


def test_two_hundred_clicks_queue_one_poll_per_account(alice_client, alice, published, settings):
    settings.MAIL_CHECK_NOW_PER_MINUTE = 0  # (only the per-account rule here)
    second = MailAccount.objects.create(user=alice, address="two@example.test", incoming_host="pop.example.test",
                                        incoming_port=995, incoming_username="two", incoming_password="x",
                                        smtp_host="smtp.example.test", smtp_port=587)
    answers = [check(alice_client).json() for _ in range(200)]
    assert answers[0] == {"queued": 2}
    assert all(a == {"queued": 0, "busy": 2} for a in answers[1:])
    assert sorted(published) == sorted([alice.mail_accounts.exclude(id=second.id).get().id, second.id])


def test_a_started_poll_frees_its_account_for_the_next_check(alice_client, alice, published, settings):
    settings.MAIL_CHECK_NOW_PER_MINUTE = 0
    account = alice.mail_accounts.get()
    assert check(alice_client).json() == {"queued": 1}
    lease = PollLease.take(account.id, due_only=False)  # the worker starts the poll: the queue mark goes
    assert check(alice_client).json() == {"queued": 0, "busy": 1}  # ... but it is running
    lease.release()
    assert check(alice_client).json() == {"queued": 1}
    assert published == [account.id, account.id]


def test_a_dropped_request_leaves_no_queue_mark(alice, published):
    account = alice.mail_accounts.get()
    MailAccount.objects.filter(id=account.id).update(poll_queued_at=timezone.now(),
                                                     poll_lease_until=timezone.now() + timedelta(minutes=1))
    assert PollLease.take(account.id, due_only=False) is None  # another poll holds the account
    assert MailAccount.objects.get(id=account.id).poll_queued_at is None  # beat and Check now may queue it again


def test_over_the_per_minute_limit_nothing_is_queued_and_the_page_says_so(alice_client, alice, published, settings):
    settings.MAIL_CHECK_NOW_PER_MINUTE = 3
    account = alice.mail_accounts.get()
    for _ in range(3):
        assert check(alice_client).status_code == 200
        MailAccount.objects.filter(id=account.id).update(poll_queued_at=None)  # as if each poll ran at once
    response = check(alice_client)
    assert response.status_code == 429 and response.json() == {
        "queued": 0, "limited": True,
        "message": "You asked to check for new mail too often; wait a minute. Mail is also checked periodically."}
    assert len(published) == 3
    page = alice_client.post(reverse("webmail:check_now"), follow=True).content.decode()
    assert "You asked to check for new mail too often; wait a minute." in page
    assert len(published) == 3
    # A minute later the user may ask again; another user was never limited.
    CheckNowRequest.objects.update(created_at=timezone.now() - timedelta(seconds=61))
    assert check(alice_client).json() == {"queued": 1}
    assert CheckNowRequest.objects.filter(user=alice).count() == 1  # the old ones are deleted as it goes


def test_the_limit_is_per_user(client, alice_client, alice, published, settings):
    settings.MAIL_CHECK_NOW_PER_MINUTE = 1
    bob = make_user("bob")
    assert check(alice_client).status_code == 200
    assert check(alice_client).status_code == 429
    client.force_login(bob)
    assert check(client).json() == {"queued": 1}
