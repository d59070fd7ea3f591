"""The rules the spool and the poller share, each written once: what a refusal makes of a recipient, how long a
retry waits, when an account counts as due. (Which statuses are settled is the models': spooler.models.)"""
from datetime import datetime, timedelta

from django.conf import settings

from spooler.models import RecipientStatus
from spooler.sessions import is_temporary


def recipient_status(code: int) -> RecipientStatus:
    """What a refusal with this reply code makes of a recipient: 4xx waits, anything else fails (the protocol
    edge's rule, spooler.sessions.is_temporary)."""
    return RecipientStatus.DEFERRED if is_temporary(code) else RecipientStatus.FAILED


def backoff(failures: int, *, base: float, cap: float) -> timedelta:
    """Postfix-style: after the n-th failure in a row wait base · 2^(n-1), at most cap; nothing before a failure."""
    if failures <= 0:
        return timedelta(0)
    return timedelta(seconds=min(cap, base * 2 ** min(failures - 1, 30)))


def outbox_retry_delay(attempts: int) -> timedelta:
    """How long a deferred message waits after its `attempts`-th attempt."""
    return backoff(attempts, base=settings.SPOOL_RETRY_BASE_SECONDS, cap=settings.SPOOL_RETRY_MAX_SECONDS)


def poll_retry_delay(failures: int) -> timedelta:
    """How long an account whose polls failed `failures` times in a row waits before the next one."""
    return backoff(failures, base=settings.POLL_RETRY_BASE_SECONDS, cap=settings.POLL_RETRY_MAX_SECONDS)


def poll_due_horizon(now: datetime) -> datetime:
    """An account due before this is polled now: it would be due before the next beat anyway."""
    return now + timedelta(seconds=settings.POLL_INTERVAL_SECONDS / 2)
