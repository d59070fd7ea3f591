"""The one module that talks to the broker: what it publishes, and that a broker failure never raises."""
import importlib
import logging
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from mailsite.celery import app as celery_app
from spooler import tasks
from spooler.services import broker


@pytest.fixture
def sent(monkeypatch):
    """What reaches Celery's send_task (under apply_async): the task's name, its arguments, the retry option."""
    calls = []

    def send_task(name, args=None, kwargs=None, retry=None, **options):
        calls.append((name, list(args or []), dict(kwargs or {}), retry))

    monkeypatch.setattr(celery_app, "send_task", send_task)
    return calls


@pytest.fixture
def broker_down(monkeypatch):
    def send_task(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(celery_app, "send_task", send_task)


@pytest.fixture
def unqueued(monkeypatch):
    calls = []
    monkeypatch.setattr(broker, "account_unqueue", lambda *, account_id: calls.append(account_id))
    return calls


def test_a_wake_up_is_the_delivery_task_without_retries(sent):
    assert broker.publish_wake() is True
    assert sent == [(tasks.deliver_due.name, [], {}, False)]


def test_poll_requests_carry_only_the_account_id(sent, unqueued):
    assert broker.accounts_poll_request(account_ids=[3, 5], due_only=True) == 2
    assert sent == [(tasks.poll_account.name, [3], {"due_only": True}, False),
                    (tasks.poll_account.name, [5], {"due_only": True}, False)]
    assert unqueued == []


def test_a_broker_failure_is_false_and_a_warning(broker_down, caplog):
    with caplog.at_level(logging.WARNING, logger=broker.__name__):
        assert broker.publish_wake() is False
    assert "could not publish the delivery wake-up" in caplog.text


def test_beat_s_unpublished_request_loses_its_queue_mark(broker_down, unqueued):
    assert broker.accounts_poll_request(account_ids=[3, 5], due_only=True) == 0
    assert unqueued == [3, 5]


def test_a_user_s_unpublished_request_leaves_the_account_alone(broker_down, unqueued):
    assert broker.accounts_poll_request(account_ids=[3]) == 0
    assert unqueued == []


def test_the_published_tasks_are_the_registered_ones():
    for task in (tasks.deliver_due, tasks.poll_account):
        assert celery_app.tasks[task.name].run is task.run  # (shared_task gives a proxy: compare the functions)


@pytest.mark.parametrize("entry", sorted(settings.CELERY_BEAT_SCHEDULE))
def test_every_beat_entry_names_a_task_the_worker_has(entry):
    # Beat names its tasks by string (the settings cannot import the tasks): a rename must fail here. The worker
    # imports every app's tasks module at start (autodiscover_tasks); so does this test.
    celery_app.loader.import_default_modules()
    name = settings.CELERY_BEAT_SCHEDULE[entry]["task"]
    assert name in celery_app.tasks
    module, function = name.rsplit(".", 1)
    assert celery_app.tasks[name].run is getattr(importlib.import_module(module), function).run


@pytest.fixture
def sent_options(monkeypatch):
    """The publish options (countdown) of each message that reaches send_task."""
    calls = []
    monkeypatch.setattr(celery_app, "send_task", lambda name, args=None, kwargs=None, **options: calls.append(
        (name, options.get("countdown"))))
    return calls


def test_a_row_due_soon_gets_a_wake_up_at_its_time(sent_options, settings):
    settings.SPOOL_SCHEDULED_WAKE_MAX_SECONDS = 600
    broker.outbox_wake_at(timezone.now() + timedelta(seconds=10))
    [(name, countdown)] = sent_options
    assert name == tasks.deliver_due.name and 9.5 < countdown <= 10.1


def test_a_row_due_later_is_left_to_the_sweeper(sent_options, settings):
    settings.SPOOL_SCHEDULED_WAKE_MAX_SECONDS = 600
    broker.outbox_wake_at(timezone.now() + timedelta(seconds=601))
    assert sent_options == []


def test_a_row_due_already_is_woken_now(sent_options, monkeypatch):
    monkeypatch.setattr(broker, "_wake_last", float("-inf"))
    monkeypatch.setattr(broker, "_wake_timer", None)
    broker.outbox_wake_at(timezone.now() - timedelta(seconds=1))
    assert sent_options == [(tasks.deliver_due.name, None)]
