"""Which accounts beat polls now, and their queue marks (so a poll waiting in the queue is not queued twice)."""
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from mailsite.mailboxes.models import MailAccount
from spooler.models import CheckNowRequest
from spooler.services import rules


class CheckNowLimited(Exception):
    """The user asked "Check now" MAIL_CHECK_NOW_PER_MINUTE times in the last minute already."""


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


def accounts_mark_for_check_now(*, user) -> tuple[list[int], int]:
    """The user's accounts to poll now, marked queued: ([ids marked], how many were left out because a poll of
    theirs is already queued or running). Raises CheckNowLimited (nothing marked, nothing counted) when the user
    asked MAIL_CHECK_NOW_PER_MINUTE times in the last minute.

    Each account is marked by a conditional UPDATE, so two requests at once never queue one account twice."""
    now = timezone.now()
    per_minute = settings.MAIL_CHECK_NOW_PER_MINUTE
    if per_minute:
        minute_ago = now - timedelta(minutes=1)
        CheckNowRequest.objects.filter(user=user, created_at__lt=minute_ago).delete()
        if CheckNowRequest.objects.filter(user=user, created_at__gte=minute_ago).count() >= per_minute:
            raise CheckNowLimited
        CheckNowRequest.objects.create(user=user, created_at=now)
    stale_queue = now - timedelta(seconds=settings.POLL_QUEUE_MARK_SECONDS)
    free = (Q(poll_lease_until__isnull=True) | Q(poll_lease_until__lt=now)) & (
        Q(poll_queued_at__isnull=True) | Q(poll_queued_at__lt=stale_queue))
    marked, busy = [], 0
    for account_id in MailAccount.objects.filter(user=user).values_list("id", flat=True):
        if MailAccount.objects.filter(free, id=account_id).update(poll_queued_at=now):
            marked.append(account_id)
        else:
            busy += 1
    return marked, busy
