"""Which accounts beat polls now, and their queue marks (so a poll waiting in the queue is not queued twice)."""
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from mailsite.mailboxes.models import MailAccount
from spooler.services import rules


def accounts_due_for_poll() -> list[int]:
    """Accounts due for a poll (their interval or backoff is over, no poll running, not queued already).

    They are marked queued (poll_queued_at) in the same UPDATE, so that beat does not queue them again while
    their poll waits in the queue; a queue mark older than POLL_QUEUE_MARK_SECONDS is ignored (a lost message).
    """
    now = timezone.now()
    stale_queue = now - timedelta(seconds=settings.POLL_QUEUE_MARK_SECONDS)
    marked = (
        MailAccount.objects.filter(Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=rules.poll_due_horizon(now)))
        .filter(Q(poll_lease_until__isnull=True) | Q(poll_lease_until__lt=now))
        .filter(Q(poll_queued_at__isnull=True) | Q(poll_queued_at__lt=stale_queue))
        .update(poll_queued_at=now)
    )
    if not marked:
        return []
    return list(MailAccount.objects.filter(poll_queued_at=now).values_list("id", flat=True))


def account_unqueue(*, account_id: int) -> None:
    """Forget the queue mark (the request could not be published): beat will queue the account again."""
    MailAccount.objects.filter(id=account_id).update(poll_queued_at=None)
