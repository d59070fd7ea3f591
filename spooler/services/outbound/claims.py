"""Claims: a worker marks due rows as its own, with a lease, so two workers never send the same row and a worker
that dies leaves a lease that runs out (the sweeper then puts the rows back)."""
import uuid
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from mailsite.mailboxes.models import MailAccount
from spooler.models import DUE_STATUSES, OutboxMessage, OutboxStatus
from spooler.services.sql import outbox as outbox_sql
from spooler.services.sql.transactions import write_transaction


def due_rows(now=None):
    """The rows a claim at `now` may take (the same condition as sql.outbox.claim_due, through the ORM)."""
    now = now or timezone.now()
    return OutboxMessage.objects.filter(status__in=DUE_STATUSES, next_attempt_at__lte=now).filter(
        Q(not_before__isnull=True) | Q(not_before__lte=now)
    )


def outbox_claim(*, limit: int) -> list[OutboxMessage]:
    """Claim up to `limit` due rows for this worker, with a lease. Returns the rows won (with their relay)."""
    now = timezone.now()
    token = uuid.uuid4()
    lease_until = now + timedelta(seconds=settings.SPOOL_LEASE_SECONDS)
    with write_transaction():
        # SQLite: the transaction begins IMMEDIATE (settings), so claims are serialized between processes.
        # PostgreSQL: rows another worker is claiming right now are skipped (SKIP LOCKED), not waited for.
        won = outbox_sql.claim_due(statuses=DUE_STATUSES, now=now, limit=limit, status=OutboxStatus.SENDING,
                                   token=token, lease_until=lease_until)
    if not won:
        return []
    rows = outbox_sql.load_claimed(status=OutboxStatus.SENDING, token=token, lease_until=lease_until)
    relays = MailAccount.objects.in_bulk({r.relay_id for r in rows if r.relay_id is not None})
    for row in rows:
        if row.relay_id is not None:  # (no relay: the ORM answers None without a query)
            row.relay = relays.get(row.relay_id)
    return rows


def renew_leases(*, token, ids: set[int]) -> set[int]:
    """Extend the lease of this claim's rows still `sending` under it. Returns the ids still ours."""
    owned = set(OutboxMessage.objects.filter(claim_token=token, status=OutboxStatus.SENDING).values_list("id", flat=True))
    OutboxMessage.objects.filter(id__in=owned, claim_token=token).update(
        lease_until=timezone.now() + timedelta(seconds=settings.SPOOL_LEASE_SECONDS)
    )
    return owned & ids
