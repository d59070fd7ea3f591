"""The one module that talks to the broker: delivery wake-ups and poll requests.

A message published here carries ids only and is a wake-up call: the database row is the truth, and the sweeper
(outbound) or beat (inbound) finds the work again if a message is lost. So publishing never raises: a dead Redis
must not fail a page or a batch. Tasks are referred to as functions (spooler.tasks), not by strings, so a rename
cannot silently publish to nobody.
"""
import logging
import threading
import time

from django.conf import settings
from django.utils import timezone

from spooler.services.inbound.schedule import account_unqueue

logger = logging.getLogger(__name__)


def _publish(task, *, args=(), kwargs=None, what: str, **options) -> bool:
    """Publish one task message. False (logged, never raised) when the broker cannot be reached."""
    try:
        task.apply_async(args=list(args), kwargs=kwargs or {}, retry=False, **options)
        return True
    except Exception:  # noqa: BLE001 - any broker failure: logged; the row is still there to be found again
        logger.warning("could not publish %s; it will be found again without it", what, exc_info=True)
        return False


def _tasks():
    from spooler import tasks  # (tasks imports the services; a module-level import here would be a circle)

    return tasks


# --- delivery wake-ups ----------------------------------------------------------------------------------------

_wake_lock = threading.Lock()
_wake_last = float("-inf")
_wake_timer = None


def outbox_wake() -> None:
    """Ask a worker to drain the spool. Never raises.

    Coalesced per process: at most one publish per SPOOL_WAKE_COALESCE_SECONDS. A call inside the interval
    schedules one trailing publish at its end (a timer thread, so the caller never waits), which necessarily
    comes after the caller's commit; so a wake-up is postponed, never dropped.
    """
    global _wake_last, _wake_timer
    interval = settings.SPOOL_WAKE_COALESCE_SECONDS
    with _wake_lock:
        if _wake_timer is not None:
            return  # a publish is already scheduled for later: it covers this row too
        now = time.monotonic()
        wait = _wake_last + interval - now
        if wait > 0:
            _wake_timer = threading.Timer(wait, _trailing_wake)
            _wake_timer.daemon = True
            _wake_timer.start()
            return
        _wake_last = now
    publish_wake()


def _trailing_wake() -> None:
    global _wake_last, _wake_timer
    with _wake_lock:
        _wake_timer = None
        _wake_last = time.monotonic()
    publish_wake()


def publish_wake(*, countdown: float | None = None) -> bool:
    """Publish one "deliver due rows" message (not coalesced), for now or `countdown` seconds from now.
    False when the broker cannot be reached."""
    options = {"countdown": countdown} if countdown else {}
    return _publish(_tasks().deliver_due, what="the delivery wake-up (the sweeper re-wakes the rows)", **options)


def outbox_wake_at(when) -> None:
    """Wake a worker when a row scheduled for `when` falls due (undo send's few seconds, a send later soon).

    A wake-up with a countdown waits in a worker's memory, so only a near one is published (up to
    SPOOL_SCHEDULED_WAKE_MAX_SECONDS); a later row is found by the sweeper. Never raises."""
    delay = (when - timezone.now()).total_seconds()
    if delay <= 0:
        outbox_wake()
    elif delay <= settings.SPOOL_SCHEDULED_WAKE_MAX_SECONDS:
        publish_wake(countdown=delay + 0.05)  # (a hair after: the claim compares next_attempt_at <= now)


# --- poll requests --------------------------------------------------------------------------------------------


def accounts_poll_request(*, account_ids, due_only: bool = False, marked: bool = False) -> int:
    """Queue a poll of each account; the task message carries only the id. Returns how many were queued.

    With the broker down, beat polls anyway. due_only (beat's own requests): the worker skips an account that is
    not due. due_only or marked (queue marks set by the caller): an account whose request could not be published
    loses its queue mark (beat queues it again).
    """
    poll = _tasks().poll_account
    queued = 0
    for account_id in account_ids:
        if _publish(poll, args=[account_id], kwargs={"due_only": due_only}, what=f"a poll of account {account_id}"):
            queued += 1
        elif due_only or marked:
            account_unqueue(account_id=account_id)
    return queued


# --- connection tests -----------------------------------------------------------------------------------------


def connection_test_request(*, test_id: int) -> bool:
    """Queue a "Test connection" run. False when the broker cannot be reached (the page says the test was not
    started when the row stays queued)."""
    return _publish(_tasks().connection_test, args=[test_id], what=f"connection test {test_id}")
