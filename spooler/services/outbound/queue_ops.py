"""Operations on the queue: what the admin's actions and `manage.py spool` do to rows (Postfix's postsuper)."""
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from spooler.models import DUE_STATUSES, OutboxMessage, OutboxStatus, RecipientStatus
from spooler.services.broker import outbox_wake, publish_wake

def _ids(ids) -> list[int]:
    return [int(i) for i in ids]


def outbox_hold(*, ids) -> int:
    """Put queued or deferred rows on hold: no delivery until released."""
    return OutboxMessage.objects.filter(id__in=_ids(ids), status__in=DUE_STATUSES).update(status=OutboxStatus.HELD)


def outbox_release(*, ids) -> int:
    """Release held rows: queued again and due now (a scheduled send still waits for its time)."""
    count = OutboxMessage.objects.filter(id__in=_ids(ids), status=OutboxStatus.HELD).update(
        status=OutboxStatus.QUEUED, next_attempt_at=timezone.now()
    )
    if count:
        transaction.on_commit(outbox_wake)
    return count


def outbox_requeue(*, ids) -> int:
    """Deliver now: queued, deferred, held, failed or expired rows become due at once, with a fresh lifetime.
    The schedule (not_before) is dropped too: "now" means now. Recipients already accepted are not sent again."""
    now = timezone.now()
    requeueable = [OutboxStatus.QUEUED, OutboxStatus.DEFERRED, OutboxStatus.HELD, OutboxStatus.FAILED,
                   OutboxStatus.EXPIRED]
    rows = list(OutboxMessage.objects.filter(id__in=_ids(ids), status__in=requeueable))
    for row in rows:
        # Refused and expired recipients get another chance; accepted ones are done.
        row.outcomes = {r: o for r, o in row.outcomes.items() if o.get("status") == RecipientStatus.SENT}
        if not row.pending_recipients:
            continue
        row.status, row.next_attempt_at, row.not_before = OutboxStatus.QUEUED, now, None
        row.expires_at = now + timedelta(seconds=settings.SPOOL_LIFETIME_SECONDS)
        row.finished_at, row.bounce_pending = None, False
    rows = [r for r in rows if r.status == OutboxStatus.QUEUED]
    with transaction.atomic():
        # Conditional per row: a row a worker claimed meanwhile is left alone.
        count = 0
        for row in rows:
            count += OutboxMessage.objects.filter(id=row.id, status__in=requeueable).update(
                status=row.status, next_attempt_at=now, not_before=None, expires_at=row.expires_at,
                finished_at=None, bounce_pending=False, outcomes=row.outcomes,
            )
    if count:
        transaction.on_commit(outbox_wake)
    return count


def outbox_cancel(*, ids) -> int:
    """Cancel rows that are waiting (queued, deferred, held). A row being sent right now cannot be cancelled."""
    now = timezone.now()
    return OutboxMessage.objects.filter(
        id__in=_ids(ids), status__in=[*DUE_STATUSES, OutboxStatus.HELD]
    ).update(status=OutboxStatus.CANCELLED, finished_at=now)


def outbox_delete(*, ids) -> int:
    """Delete rows (not while being sent). Part bodies no other row uses are removed later by storage_collect."""
    _total, per_model = OutboxMessage.objects.filter(id__in=_ids(ids)).exclude(status=OutboxStatus.SENDING).delete()
    return per_model.get(OutboxMessage._meta.label, 0)


def outbox_flush() -> int:
    """Make every deferred row due now (Postfix's `postqueue -f`) and wake a worker. Returns how many."""
    count = OutboxMessage.objects.filter(status=OutboxStatus.DEFERRED).update(next_attempt_at=timezone.now())
    publish_wake()
    return count
