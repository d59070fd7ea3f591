"""Outbound mail: enqueue a row, claim due rows, deliver them over SMTP, record the outcome.

The row is the spool. Publishing to Redis is only a wake-up call, made after commit; if it is lost,
the sweeper finds the row again. A row is claimed by a conditional UPDATE with a lease, so two
workers never send the same row, and a worker that dies leaves a lease that runs out.
"""
import logging
import time
import uuid
from datetime import timedelta
from email.utils import parseaddr
from itertools import groupby

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from mailsite.celery import app as celery_app
from spooler.models import DUE_STATUSES, DeliveryAttempt, OutboxMessage, OutboxStatus
from spooler.services.relays import smtp_session
from spooler.sessions import Email, PermanentError, SessionError, TransientError

logger = logging.getLogger(__name__)

DELIVER_TASK = "spooler.tasks.deliver_due"


def outbox_enqueue(*, email: Email, relay=None, user=None, not_before=None, priority: int = 0) -> OutboxMessage:
    """Store a message in the spool; the delivery worker is woken once the transaction commits."""
    raw = email.to_bytes()
    now = timezone.now()
    row = OutboxMessage.objects.create(
        user=user,
        relay=relay,
        envelope_from=parseaddr(email.sender)[1],
        recipients=email.envelope_recipients(),
        raw=raw,
        message_id=email.message_id,
        subject=email.subject[:998],
        priority=priority,
        not_before=not_before,
        next_attempt_at=max(not_before, now) if not_before else now,
    )
    transaction.on_commit(outbox_wake)
    return row


def outbox_wake() -> None:
    """Ask a worker to drain the spool. Never raises: a dead Redis must not fail the request."""
    try:
        celery_app.send_task(DELIVER_TASK, retry=False)
    except Exception:  # noqa: BLE001 - any broker failure is logged; the sweeper re-wakes the rows
        logger.warning("could not publish the delivery wake-up; the sweeper will pick the rows up", exc_info=True)


def outbox_claim(*, limit: int) -> list[OutboxMessage]:
    """Claim up to `limit` due rows for this worker, with a lease. Returns the rows won."""
    now = timezone.now()
    due_ids = list(
        OutboxMessage.objects.filter(status__in=DUE_STATUSES, next_attempt_at__lte=now)
        .order_by("-priority", "next_attempt_at", "id")
        .values_list("id", flat=True)[:limit]
    )
    if not due_ids:
        return []
    token = uuid.uuid4()
    # The status condition is re-checked by the UPDATE itself: a row another worker took is skipped.
    OutboxMessage.objects.filter(id__in=due_ids, status__in=DUE_STATUSES).update(
        status=OutboxStatus.SENDING,
        claim_token=token,
        lease_until=now + timedelta(seconds=settings.SPOOL_LEASE_SECONDS),
    )
    return list(OutboxMessage.objects.filter(claim_token=token, status=OutboxStatus.SENDING).order_by("relay_id", "id"))


def outbox_deliver_due(*, batch_size: int | None = None) -> int:
    """Claim and deliver due rows batch after batch until none is left. Returns how many were attempted."""
    batch_size = batch_size or settings.SPOOL_BATCH_SIZE
    attempted = 0
    while rows := outbox_claim(limit=batch_size):
        outbox_deliver_rows(rows=rows)
        attempted += len(rows)
    return attempted


def outbox_deliver_rows(*, rows: list[OutboxMessage]) -> None:
    """Send claimed rows, one SMTP connection per relay, and record each outcome."""
    for _relay_id, group in groupby(rows, key=lambda r: r.relay_id):
        group = list(group)
        session = smtp_session(group[0].relay)
        try:
            session.connect()
        except SessionError as exc:
            # The relay itself is unreachable or refuses us: nothing was sent, every row waits.
            for row in group:
                _record(row, error=exc, duration_ms=0, transient=True)
            continue
        try:
            for row in group:
                _deliver_one(session, row)
        finally:
            session.close()


def _deliver_one(session, row: OutboxMessage) -> None:
    started = time.monotonic()
    try:
        result = session.send_raw(row.envelope_from, row.recipients, bytes(row.raw))
    except SessionError as exc:
        _record(row, error=exc, duration_ms=_ms_since(started), transient=not isinstance(exc, PermanentError))
        if isinstance(exc, TransientError):
            # The connection may be gone; the next row gets a fresh one.
            session.close()
            try:
                session.connect()
            except SessionError:
                pass
        return
    _record_sent(row, result=result, duration_ms=_ms_since(started))


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _record_sent(row: OutboxMessage, *, result, duration_ms: int) -> None:
    now = timezone.now()
    refused = {rcpt: list(reply) for rcpt, reply in (result.refused or {}).items()}
    with transaction.atomic():
        OutboxMessage.objects.filter(id=row.id).update(
            status=OutboxStatus.SENT,
            attempts=row.attempts + 1,
            last_code=result.code,
            last_text=result.text,
            sent_at=now,
            lease_until=None,
        )
        DeliveryAttempt.objects.create(
            message=row, code=result.code, text=result.text, duration_ms=duration_ms, refused=refused
        )


def _record(row: OutboxMessage, *, error: SessionError, duration_ms: int, transient: bool) -> None:
    """A failed attempt: defer with backoff (transient), or fail (permanent, or past the lifetime)."""
    now = timezone.now()
    attempts = row.attempts + 1
    expired = now - row.created_at > timedelta(seconds=settings.SPOOL_LIFETIME_SECONDS)
    if not transient:
        status = OutboxStatus.FAILED
    elif expired:
        status = OutboxStatus.EXPIRED
    else:
        status = OutboxStatus.DEFERRED
    with transaction.atomic():
        OutboxMessage.objects.filter(id=row.id).update(
            status=status,
            attempts=attempts,
            last_code=error.code,
            last_text=str(error),
            next_attempt_at=now + retry_delay(attempts),
            lease_until=None,
        )
        DeliveryAttempt.objects.create(message=row, code=error.code, text=str(error), duration_ms=duration_ms)
    logger.info("outbox %s %s after attempt %s: %s", row.id, status, attempts, error)


def retry_delay(attempts: int) -> timedelta:
    """Postfix-style backoff: the base delay doubled per attempt, capped."""
    seconds = settings.SPOOL_RETRY_BASE_SECONDS * (2 ** max(attempts - 1, 0))
    return timedelta(seconds=min(seconds, settings.SPOOL_RETRY_MAX_SECONDS))


def outbox_sweep() -> int:
    """Re-queue rows whose worker died (lease ran out) and wake a worker if anything is due."""
    now = timezone.now()
    OutboxMessage.objects.filter(status=OutboxStatus.SENDING, lease_until__lt=now).update(
        status=OutboxStatus.QUEUED, next_attempt_at=now, lease_until=None
    )
    due = OutboxMessage.objects.filter(status__in=DUE_STATUSES, next_attempt_at__lte=now).count()
    if due:
        outbox_wake()
    return due
