"""The sweeper: what dead workers left in the spool, recorded or put back in the queue; owed bounces; wake-ups.

A worker that dies mid-batch leaves its rows `sending` under a lease that runs out, and a receipt for each row
the relay accepted (outbound/receipts.py). One sweep, with ONE cutoff time for all its steps:

1. recovery: every kept receipt is read, page after page until none is left; each receipted row whose lease
   ran out before the cutoff, still under the receipt's claim, is recorded as sent (never sent again);
2. re-queue: rows whose lease ran out before the cutoff go back to the queue, except any with a kept receipt
   for its current claim (a receipt written after step 1 read its page is kept for the next sweep);
3. receipts of a batch are dropped only once no row is `sending` under its claim any more: every receipt of
   it was recorded (by step 1, or by the worker itself) or belongs to a claim that is over.

A batch whose lease runs out while the sweep runs is left alone by steps 1 and 2 alike (its lease ended after
the cutoff), so the next sweep reads its receipts before it could be re-queued. The duplicate bound this gives
is in the README ("What a crash can cost").
"""
import logging
import time
from datetime import datetime

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.utils import timezone

from spooler.models import FINAL_STATUSES, DeliveryAttempt, OutboxMessage, OutboxReceipt, OutboxStatus
from spooler.services import broker
from spooler.services.outbound import outcomes, receipts
from spooler.services.outbound.attempt_log import attempts_log
from spooler.services.outbound.bounce import outbox_bounce_rows
from spooler.services.outbound.claims import due_rows
from spooler.services.sql import rows as bulk_rows
from spooler.services.sql.transactions import write_transaction
from spooler.services.sql.values import in_chunks

logger = logging.getLogger(__name__)

def outbox_sweep() -> int:
    """Record or re-queue what dead workers left, store owed bounce notices, and wake a worker if anything is
    due. Returns the number of due rows."""
    cutoff = timezone.now()
    _recovered, tokens, receipted = outbox_recover_receipts(cutoff=cutoff)
    requeued = outbox_requeue_expired(cutoff=cutoff, receipted=receipted)
    if requeued:
        logger.warning("re-queued %s outbox rows whose worker stopped before recording them", requeued)
    drop_finished_receipts(tokens)
    owed = list(OutboxMessage.objects.filter(bounce_pending=True, status__in=FINAL_STATUSES).select_related("relay")[:100])
    outbox_bounce_rows(owed)
    due = due_rows(timezone.now()).count()
    if due:
        broker.publish_wake()
    return due


def outbox_recover_receipts(*, cutoff: datetime) -> tuple[int, set, set]:
    """Step 1: rows whose worker died after the relay's 250 but before the batch was recorded, recorded as
    sent from their receipts. Returns (rows recovered, the claim tokens seen, the (token, row id) pairs seen)."""
    recovered, tokens, receipted = 0, set(), set()
    for page in receipts.receipt_pages(settings.SPOOL_RECEIPT_PAGE):
        tokens.update(token for token, _r, _at in page)
        receipted.update((token, row_id) for token, row_id, _at in page)
        recovered += _record_page(page, cutoff=cutoff)
        if settings.SPOOL_TEST_RECOVERY_DELAY_SECONDS:  # (fault tests: a slow recovery, as a big one would be)
            time.sleep(settings.SPOOL_TEST_RECOVERY_DELAY_SECONDS)
    if recovered:
        logger.warning("recorded %s outbox rows as sent from their receipts (their worker died)", recovered)
    return recovered, tokens, receipted


def _record_page(page, *, cutoff: datetime) -> int:
    """One transaction per page: the receipted rows still under the receipt's claim, lease run out."""
    with write_transaction():
        rows = (OutboxMessage.objects.select_for_update()
                .filter(id__in={row_id for _t, row_id, _at in page}, status=OutboxStatus.SENDING,
                        lease_until__lt=cutoff).in_bulk())
        recorded, attempts = [], []
        for token, row_id, at in page:
            row = rows.get(row_id)
            if row is None or row.claim_token != token:
                continue  # recorded already, or its claim is over (the receipt is obsolete)
            del rows[row_id]  # (a receipt read twice is recorded once)
            attempts.append(outcomes.receipted(row, at=at))
            recorded.append(row)
        if recorded:
            bulk_rows.update_rows(OutboxMessage, recorded, outcomes.ROW_FIELDS)
            bulk_rows.insert_rows(DeliveryAttempt, attempts, outcomes.ATTEMPT_FIELDS)
    attempts_log(rows=recorded, attempts=attempts)
    return len(recorded)


def outbox_requeue_expired(*, cutoff: datetime, receipted: set = frozenset()) -> int:
    """Step 2: rows whose lease ran out before `cutoff` back to the queue, unless a receipt is kept for their
    current claim (read in step 1 as `receipted`, or a receipt row written since)."""
    expired = OutboxMessage.objects.filter(status=OutboxStatus.SENDING, lease_until__lt=cutoff)
    if receipts.receipt_dir() is None:  # receipts are rows: the database itself leaves out any receipted row
        expired = expired.exclude(Exists(OutboxReceipt.objects.filter(message_id=OuterRef("pk"),
                                                                      claim_token=OuterRef("claim_token"))))
    ids = [row_id for row_id, token in expired.values_list("id", "claim_token") if (token, row_id) not in receipted]
    now, requeued = timezone.now(), 0
    for chunk in in_chunks(ids):
        requeued += OutboxMessage.objects.filter(
            id__in=chunk, status=OutboxStatus.SENDING, lease_until__lt=cutoff,
        ).update(status=OutboxStatus.QUEUED, next_attempt_at=now, lease_until=None, claim_token=None)
    return requeued


def drop_finished_receipts(tokens: set) -> None:
    """Step 3: the receipts of the batches no row is `sending` under any more."""
    live = set()
    for chunk in in_chunks(list(tokens)):
        live.update(OutboxMessage.objects.filter(status=OutboxStatus.SENDING, claim_token__in=chunk)
                    .values_list("claim_token", flat=True))
    receipts.drop_receipts(tokens - live)
