"""One poll per account at a time: a short lease on the account row (poll_lease_until), kept alive while it runs.

Taken by a conditional UPDATE (free, or run out); renewed by the poll at its checkpoints and by a heartbeat
thread every POLL_LEASE_SECONDS / 3, whatever the poll is waiting for (a slow server, a big message); released
by its holder only. A poller that dies stops renewing: the next poll may start POLL_LEASE_SECONDS later at most
(then beat queues it within POLL_INTERVAL_SECONDS). The heartbeat stops renewing once the poll has run far past
its own cap (POLL_SESSION_SECONDS plus a few timeouts): a poll stuck beyond that gives the account up.
"""
import logging
import threading
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connections
from django.db.models import Q
from django.utils import timezone

from mailsite.mailboxes.models import MailAccount
from spooler.services import rules
from spooler.services.inbound.schedule import account_unqueue

logger = logging.getLogger(__name__)


class LeaseLost(Exception):
    """Another poll took this account's lease (ours ran out): stop without touching the account."""


class PollLease:
    def __init__(self, account_id: int, until: datetime):
        self.account_id, self.until = account_id, until
        self.lost = False
        self._lock = threading.Lock()  # the poll and its heartbeat renew the same lease
        self._stop = threading.Event()
        self._thread = None

    @classmethod
    def take(cls, account_id: int, *, due_only: bool) -> "PollLease | None":
        """The account's lease, or None if another poll holds it (or, with due_only, the account is not due)."""
        now = timezone.now()
        until = now + timedelta(seconds=settings.POLL_LEASE_SECONDS)
        free = MailAccount.objects.filter(id=account_id).filter(Q(poll_lease_until__isnull=True) | Q(poll_lease_until__lt=now))
        if due_only:
            free = free.filter(Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=rules.poll_due_horizon(now)))
        if free.update(poll_lease_until=until, poll_queued_at=None):
            return cls(account_id, until)
        # This request is dropped: its queue mark goes (a "Check now" mark kept would hold beat off for
        # POLL_QUEUE_MARK_SECONDS).
        account_unqueue(account_id=account_id)
        return None

    def renew(self, **fields) -> None:
        """Extend the lease, writing `fields` (progress) with it in one UPDATE. LeaseLost if it is no longer ours."""
        with self._lock:
            if self.lost:
                raise LeaseLost()
            until = timezone.now() + timedelta(seconds=settings.POLL_LEASE_SECONDS)
            if not MailAccount.objects.filter(id=self.account_id, poll_lease_until=self.until).update(
                    poll_lease_until=until, **fields):
                self.lost = True
                raise LeaseLost()
            self.until = until

    def start_heartbeat(self) -> None:
        # The first beat comes a third of the lease in: a poll shorter than that never touches the row from here.
        self._thread = threading.Thread(target=self._beat, name=f"poll-lease-{self.account_id}", daemon=True)
        self._thread.start()

    def _beat(self) -> None:
        interval = settings.POLL_LEASE_SECONDS / 3
        give_up = time.monotonic() + settings.POLL_SESSION_SECONDS + 4 * settings.MAIL_TIMEOUT
        try:
            while not self._stop.wait(interval) and time.monotonic() < give_up:
                try:
                    self.renew()
                except LeaseLost:
                    return  # the poll sees it at its next checkpoint
                except DatabaseError:
                    logger.warning("poll lease of account %s not renewed; trying again", self.account_id,
                                   exc_info=True)
        finally:
            connections.close_all()  # (this thread's own connections only)

    def release(self, **fields) -> None:
        """Stop the heartbeat, then free the lease (ours only) writing the poll's outcome `fields`."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with self._lock:
            MailAccount.objects.filter(id=self.account_id, poll_lease_until=self.until).update(
                poll_lease_until=None, **fields)
