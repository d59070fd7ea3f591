"""The thin poll tasks: beat queues due accounts once; a poll stopped at its cap queues the next one."""
import pytest

from mailsite.celery import app as celery_app
from mailsite.mailboxes.models import MailAccount
from spooler import tasks
from tests.spooler.inbound.conftest import simple

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(monkeypatch):
    calls = []
    monkeypatch.setattr(celery_app, "send_task", lambda name, args, kwargs, retry, **options: calls.append((args, kwargs)))
    return calls


def test_beat_queues_each_due_account_once(account, queued):
    assert tasks.poll_due_accounts() == 1
    assert queued == [([account.id], {"due_only": True})]
    assert tasks.poll_due_accounts() == 0


def test_a_poll_stopped_at_its_cap_queues_the_next(account, mail_sandbox, settings, queued):
    settings.POLL_MAX_MESSAGES = 2
    for n in range(3):
        mail_sandbox.deliver(account.address, simple(n))
    assert tasks.poll_account(account.id) == 2
    assert queued == [([account.id], {"due_only": True})]
    assert tasks.poll_account(account.id, due_only=True) == 1
    assert len(queued) == 1  # done: nothing more queued


def test_a_lost_wake_up_is_queued_again_by_beat(account, monkeypatch):
    def broker_down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(celery_app, "send_task", broker_down)
    assert tasks.poll_due_accounts() == 1
    assert MailAccount.objects.get(id=account.id).poll_queued_at is None  # not marked: beat tries again


def test_a_stray_wake_up_for_a_missing_account_does_nothing(db):
    assert tasks.poll_account(987654, due_only=True) is None
