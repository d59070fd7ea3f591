"""Outbound mail: enqueue a row, claim due rows, deliver them over SMTP, record the outcome.

The row is the spool. Publishing to Redis is only a wake-up call, made after commit; if it is lost,
the sweeper finds the row again. Rows are claimed with a lease (a conditional UPDATE on SQLite,
SELECT … FOR UPDATE SKIP LOCKED on PostgreSQL), so two workers never send the same row, and a worker
that dies leaves a lease that runs out.

No database transaction is open while SMTP talks. A message the server accepted is recorded at once
(one small UPDATE), so the only duplicate a crash can cause is the one SMTP itself cannot avoid (the
server said 250 and the worker died before that UPDATE, RFC 1047). Everything else (attempt rows,
deferrals, failures) is written in bulk once per batch.
"""
import hashlib
import logging
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from email import message_from_bytes
from email.policy import compat32
from itertools import groupby
from types import SimpleNamespace

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from mailsite.celery import app as celery_app
from mailsite.mailboxes.models import MailAccount
from spooler.models import (DUE_STATUSES, DeliveryAttempt, OutboxBlob, OutboxBody, OutboxMessage,
                            OutboxPart, OutboxStatus, RecipientStatus)
from spooler.services import limits as relay_limits
from spooler.services import relay_health
from spooler.services import outbox_sql
from spooler.services.receipts import batch_receipts
from spooler.services.relays import smtp_params
from spooler.services.smtp_connections import forget_session, has_session, session_for, touch_session
from spooler.sessions import (Email, NoAnswer, PermanentError, PipeliningSession, RecipientsDeferred,
                              RecipientsRefused, SessionError)

logger = logging.getLogger(__name__)

DELIVER_TASK = "spooler.tasks.deliver_due"
SETTLED = {RecipientStatus.SENT, RecipientStatus.FAILED, RecipientStatus.EXPIRED}


# --- enqueue ------------------------------------------------------------------------------------------


def outbox_enqueue(*, email: Email, relay=None, user=None, not_before=None, priority: int = 0) -> OutboxMessage:
    """Store a message in the spool; the delivery worker is woken once the transaction commits.

    Only writes rows: no SMTP, no Redis here. `not_before` schedules the send.
    """
    raw = email.to_bytes()
    now = timezone.now()
    stored, cuts = _cut_large_parts(raw)
    row = OutboxMessage(
        user=user,
        relay=relay,
        envelope_from=email.envelope_sender(),
        recipients=list(dict.fromkeys(email.envelope_recipients())),
        message_id=email.message_id,
        subject=(email.subject or "")[:998],
        priority=priority,
        not_before=not_before,
        next_attempt_at=max(not_before, now) if not_before else now,
        expires_at=now + timedelta(seconds=settings.SPOOL_LIFETIME_SECONDS),
        created_at=now,
    )
    with transaction.atomic(savepoint=False):  # (inside the page's transaction a savepoint would only cost)
        row.save(force_insert=True)
        OutboxBody.objects.create(message=row, raw=stored)
        if cuts:
            OutboxBlob.objects.bulk_create(
                [OutboxBlob(sha256=h, data=data, size=len(data)) for h, data, _ in cuts], ignore_conflicts=True
            )
            OutboxPart.objects.bulk_create([OutboxPart(message=row, blob_id=h, offset=off) for h, _, off in cuts])
    transaction.on_commit(outbox_wake)
    return row


def _cut_large_parts(raw: bytes) -> tuple[bytes, list[tuple[str, bytes, int]]]:
    """Cut base64 part bodies (attachments) of SPOOL_BLOB_MIN_BYTES or more out of `raw`.

    Returns the remaining bytes and [(sha256, body bytes, offset in the remaining bytes)]. Putting each body
    back at its offset gives `raw` again, byte for byte; a body not found verbatim simply stays inline.
    """
    minimum = settings.SPOOL_BLOB_MIN_BYTES
    if len(raw) < minimum:
        return raw, []
    bodies = []
    for part in message_from_bytes(raw, policy=compat32).walk():
        if part.is_multipart() or (part.get("Content-Transfer-Encoding") or "").strip().lower() != "base64":
            continue
        payload = part.get_payload(decode=False)
        if isinstance(payload, str) and len(payload) >= minimum:
            bodies.append(payload.encode("ascii", "surrogateescape"))
    kept, cuts, pos = [], [], 0
    out_len = 0
    for body in bodies:
        at = raw.find(body, pos)
        if at < 0:
            continue
        kept.append(raw[pos:at])
        out_len += at - pos
        cuts.append((hashlib.sha256(body).hexdigest(), body, out_len))
        pos = at + len(body)
    if not cuts:
        return raw, []
    kept.append(raw[pos:])
    return b"".join(kept), cuts


def outbox_raw(row: OutboxMessage) -> bytes:
    """The message bytes as enqueued (large part bodies put back from their blobs)."""
    stored = getattr(row, "claimed_raw", None)  # the claim loads body and parts
    parts = getattr(row, "claimed_parts", None)
    if stored is None:
        stored = bytes(row.body.raw)
    if parts is None:
        parts = [(p.offset, bytes(p.blob.data)) for p in row.parts.select_related("blob")]
    if not parts:
        return stored
    out, pos = [], 0
    for offset, data in sorted(parts):
        out.append(stored[pos:offset])
        out.append(data)
        pos = offset
    out.append(stored[pos:])
    return b"".join(out)


# --- wake-ups -----------------------------------------------------------------------------------------

_wake_lock = threading.Lock()
_wake_last = float("-inf")
_wake_timer = None


def outbox_wake() -> None:
    """Ask a worker to drain the spool. Never raises: a dead Redis must not fail the request.

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


def publish_wake() -> bool:
    """Publish one "deliver due rows" message now. False (logged) when the broker cannot be reached."""
    try:
        celery_app.send_task(DELIVER_TASK, retry=False)
        return True
    except Exception:  # noqa: BLE001 - any broker failure is logged; the sweeper re-wakes the rows
        logger.warning("could not publish the delivery wake-up; the sweeper will pick the rows up", exc_info=True)
        return False


# --- claims -------------------------------------------------------------------------------------------


def due_rows(now=None):
    now = now or timezone.now()
    return OutboxMessage.objects.filter(status__in=DUE_STATUSES, next_attempt_at__lte=now).filter(
        Q(not_before__isnull=True) | Q(not_before__lte=now)
    )


def outbox_claim(*, limit: int) -> list[OutboxMessage]:
    """Claim up to `limit` due rows for this worker, with a lease. Returns the rows won (with their relay)."""
    now = timezone.now()
    token = uuid.uuid4()
    lease_until = now + timedelta(seconds=settings.SPOOL_LEASE_SECONDS)
    if not _claim_ids(now=now, token=token, lease_until=lease_until, limit=limit):
        return []
    rows = outbox_sql.load_claimed(status=OutboxStatus.SENDING, token=token, lease_until=lease_until)
    relay_field = OutboxMessage._meta.get_field("relay")
    relays = MailAccount.objects.in_bulk({r.relay_id for r in rows if r.relay_id is not None})
    for row in rows:
        if row.relay_id is not None:  # (no relay: the ORM answers None without a query)
            relay_field.set_cached_value(row, relays.get(row.relay_id))
    return rows


def _claim_ids(*, now, token, lease_until, limit: int) -> list[int]:
    """Mark up to `limit` due rows as ours. Returns the ids tried (read back with the token: the rows won)."""
    with outbox_sql.write_transaction():
        # SQLite: the transaction begins IMMEDIATE (settings), so claims are serialized between processes.
        # PostgreSQL: rows another worker is claiming right now are skipped (SKIP LOCKED), not waited for.
        return outbox_sql.claim_due(statuses=DUE_STATUSES, now=now, limit=limit, status=OutboxStatus.SENDING,
                                    token=token, lease_until=lease_until)


# --- delivery -----------------------------------------------------------------------------------------


def outbox_deliver_due(*, batch_size: int | None = None) -> int:
    """Claim and deliver due rows batch after batch until none is left (or SPOOL_DRAIN_SECONDS have passed,
    then a fresh task takes over). Returns how many rows were attempted."""
    batch_size = batch_size or settings.SPOOL_BATCH_SIZE
    deadline = time.monotonic() + settings.SPOOL_DRAIN_SECONDS
    attempted = 0
    helped = False
    while rows := outbox_claim(limit=batch_size):
        if len(rows) == batch_size and not helped:
            # More is probably due: wake one more worker process so both cores drain the spool.
            publish_wake()
            helped = True
        attempted += outbox_deliver_rows(rows=rows)
        if time.monotonic() > deadline:
            publish_wake()
            break
    return attempted


@dataclass
class _Batch:
    token: object
    lease_renew_at: float
    attempts: list
    done: list  # rows attempted: their outcome is written in bulk at the end of the batch
    released: list  # (rows, due) held back by a relay limit: back to queued, no attempt counted
    lost: set  # ids of rows whose lease we lost (another worker owns them now)
    ids: set  # every row of the batch
    rows: list = None  # the batch's rows, in order
    receipts: object = None  # where "the relay said 250" is kept, message by message (services.receipts)
    pending_receipt: tuple | None = None  # (row id, at) accepted by the relay, receipt not yet written


def outbox_deliver_rows(*, rows: list[OutboxMessage]) -> int:
    """Send claimed rows, grouped by relay over a reused connection, and record each outcome."""
    if not rows:
        return 0
    token = rows[0].claim_token
    batch = _Batch(token=token, lease_renew_at=_renew_time(), attempts=[], done=[], released=[], lost=set(),
                   ids={r.id for r in rows}, rows=rows, receipts=batch_receipts(token))
    groups = [list(group) for _relay_id, group in groupby(rows, key=lambda r: r.relay_id)]
    # Relays this process is connected to first: a relay that has to be reached (perhaps a silent one) comes
    # after the mail that can go at once.
    groups.sort(key=lambda group: not has_session(smtp_params(group[0].relay)))
    try:
        for group in groups:
            _deliver_group(batch, group)
    finally:
        _flush(batch)
        batch.receipts.discard()  # only once the outcomes are committed: until then they are the record
    _bounce_rows([r for r in rows if r.bounce_pending and r.id not in batch.lost])
    return len(rows)


def _renew_time() -> float:
    return time.monotonic() + settings.SPOOL_LEASE_SECONDS / 3


def _deliver_group(batch: _Batch, group: list[OutboxMessage]) -> None:
    params = smtp_params(group[0].relay)
    key = relay_limits.relay_key(params["host"], params["port"])
    session = session_for(params)
    # Only a connection to be made asks how the relay is (one Redis call): an open one just answered us.
    health = relay_health.relay_health(key) if not session.connected else relay_health.Health()
    if health.down:
        # Found silent just now (here or by any worker): no one waits on it again yet.
        _defer_rest(batch, group, NoAnswer(f"not tried: {health.down}", server=key))
        return
    if health.suspect and not relay_health.take_probe(key, seconds=params["connect_timeout"] + 5):
        # A relay that was silent gets one connection attempt at a time, whoever makes it: this group waits.
        _release(batch, group, wait=settings.SPOOL_LIMIT_RETRY_SECONDS)
        return
    limit = relay_limits.limit_for(host=params["host"], port=params["port"])
    holder = None
    slot_ttl = max(settings.SPOOL_LEASE_SECONDS, 60)
    if limit and limit.max_connections:
        holder = relay_limits.acquire_connection(key=key, max_connections=limit.max_connections, ttl=slot_ttl)
        if holder is None:
            _release(batch, group, wait=settings.SPOOL_LIMIT_RETRY_SECONDS)
            return
    try:
        try:
            session.connect()
        except SessionError as exc:
            # The relay is unreachable or refuses us: nothing was sent; every row of the group waits.
            _relay_failed(batch, group, exc, key=key, params=params)
            return
        if health.suspect:
            relay_health.mark_up(key)
        for index, row in enumerate(group):
            if limit and limit.messages_per_minute:
                wait = relay_limits.take_message(key=key, per_minute=limit.messages_per_minute)
                if wait:
                    _release(batch, group[index:], wait=wait)
                    return
            if time.monotonic() > batch.lease_renew_at:
                _renew_lease(batch)
                if holder:
                    relay_limits.renew_connection(key=key, holder=holder, ttl=slot_ttl)
            if row.id in batch.lost:
                continue
            # Without a per-minute limit the next row is known to go next: its envelope rides with this content.
            then = group[index + 1] if index + 1 < len(group) and not (limit and limit.messages_per_minute) else None
            error = _deliver_one(batch, session, row, then=then)
            if error is not None and error.code is None:
                # The connection failed. Timed out: the rest of the group waits, no other connect now. Dropped:
                # one new connection (with the short connect timeout) tells whether the relay is still there.
                try:
                    if isinstance(error, NoAnswer):
                        raise error
                    session.connect()
                except SessionError as exc:
                    _relay_failed(batch, group[index + 1:], exc, key=key, params=params)
                    return
    finally:
        _write_pending_receipt(batch)
        session.cancel_lookahead()  # (only when the loop stopped early: the row sent ahead will not follow)
        touch_session(params)
        if holder:
            # A limited relay counts open connections: close ours when done with this batch.
            forget_session(params)
            relay_limits.release_connection(key=key, holder=holder)


def _relay_failed(batch: _Batch, rows: list[OutboxMessage], error: SessionError, *, key: str, params: dict) -> None:
    """The connection to the relay could not be made or kept: the rows wait, as a group; a relay that did not
    answer is marked down for every worker."""
    if relay_health.failed_to_answer(error):
        relay_health.mark_down(key, error)
    _defer_rest(batch, rows, error)
    forget_session(params)


def _defer_rest(batch: _Batch, rows: list[OutboxMessage], error: SessionError) -> None:
    for row in rows:
        if row.id not in batch.lost:
            _failed_attempt(batch, row, error, duration_ms=0)


def _deliver_one(batch: _Batch, session: PipeliningSession, row: OutboxMessage, *, then=None) -> SessionError | None:
    started = time.monotonic()
    recipients = row.pending_recipients
    following = (then.envelope_from, then.pending_recipients, outbox_raw(then)) if then is not None else None
    try:
        try:
            result = session.send_raw(row.envelope_from, recipients, outbox_raw(row),
                                      while_waiting=lambda: _write_pending_receipt(batch), then=following)
        finally:
            _write_pending_receipt(batch)
    except SessionError as exc:
        _failed_attempt(batch, row, exc, duration_ms=_ms_since(started), recipients=recipients)
        return exc
    _accepted(batch, row, result, duration_ms=_ms_since(started))
    return None


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _outcome(status, code, text) -> dict:
    return {"status": status.value, "code": code, "text": text[:1000]}


def _accepted(batch: _Batch, row: OutboxMessage, result, *, duration_ms: int) -> None:
    """The server took the message for some recipients. A receipt is written at once (the RFC 1047 window is
    that one INSERT); the row's outcome goes out with the batch."""
    now = timezone.now()
    outcomes = dict(row.outcomes)
    for rcpt in result.accepted:
        outcomes[rcpt] = _outcome(RecipientStatus.SENT, result.code, result.text)
    for rcpt, (code, text) in (result.refused or {}).items():
        status = RecipientStatus.DEFERRED if 400 <= code < 500 else RecipientStatus.FAILED
        outcomes[rcpt] = _outcome(status, code, text)
    row.outcomes = outcomes
    row.attempts += 1
    row.last_code, row.last_text = result.code, result.text
    row.sent_at = row.sent_at or now
    _settle(row, now=now, transient_text=None)
    refused = {r: list(reply) for r, reply in (result.refused or {}).items()}
    attempt = _Attempt(message_id=row.id, at=now, code=result.code, text=result.text,
                       duration_ms=duration_ms, outcome=row.status, refused=refused)
    # Written just before the next message's content goes out (in the wait for its envelope replies), or at the
    # end of the group: either way before anything else could be sent twice.
    batch.pending_receipt = (row.id, now)
    batch.done.append(row)
    batch.attempts.append(attempt)


def _Attempt(**values) -> SimpleNamespace:  # noqa: N802 - stands for a DeliveryAttempt row
    """The fields of a DeliveryAttempt to insert at the end of the batch (a model instance costs more)."""
    return SimpleNamespace(**values)


_ROW_FIELDS = ["status", "attempts", "last_code", "last_text", "outcomes", "next_attempt_at", "lease_until",
               "claim_token", "sent_at", "finished_at", "bounce_pending"]
_ATTEMPT_FIELDS = ["message", "at", "code", "text", "duration_ms", "outcome", "refused"]
def _write_pending_receipt(batch: _Batch) -> None:
    if batch.pending_receipt is not None:
        batch.receipts.write(*batch.pending_receipt)
        batch.pending_receipt = None


def _failed_attempt(batch: _Batch, row: OutboxMessage, error: SessionError, *, duration_ms: int,
                    recipients: list[str] | None = None) -> None:
    """Nothing was accepted: 4xx/timeout/dropped connection → deferred, 5xx → failed (written at batch end)."""
    now = timezone.now()
    recipients = recipients if recipients is not None else row.pending_recipients
    outcomes = dict(row.outcomes)
    refused = getattr(error, "refused", None) if isinstance(error, RecipientsRefused | RecipientsDeferred) else None
    for rcpt in recipients:
        if refused and rcpt in refused:
            code, text = refused[rcpt]
            status = RecipientStatus.DEFERRED if 400 <= code < 500 else RecipientStatus.FAILED
            outcomes[rcpt] = _outcome(status, code, f"{text}")
        else:
            status = RecipientStatus.FAILED if isinstance(error, PermanentError) else RecipientStatus.DEFERRED
            outcomes[rcpt] = _outcome(status, error.code, str(error))
    row.outcomes = outcomes
    row.attempts += 1
    row.last_code, row.last_text = error.code, str(error)
    _settle(row, now=now, transient_text=str(error))
    batch.done.append(row)
    batch.attempts.append(_Attempt(message_id=row.id, at=now, code=error.code, text=str(error),
                                          duration_ms=duration_ms, outcome=row.status,
                                          refused={r: list(v) for r, v in (refused or {}).items()}))
    logger.info("outbox %s %s after attempt %s: %s", row.id, row.status, row.attempts, error)


def _settle(row: OutboxMessage, *, now, transient_text: str | None) -> None:
    """Set the row's status from its per-recipient outcomes: deferred while some recipient waits (until the
    lifetime runs out), else final: sent if anyone accepted it, failed or expired if no one did."""
    row.lease_until = None
    row.claim_token = None
    waiting = [r for r in row.recipients if (row.outcomes.get(r) or {}).get("status") not in SETTLED]
    if waiting and row.expires_at and now >= row.expires_at:
        for rcpt in waiting:
            previous = row.outcomes.get(rcpt) or {}
            row.outcomes[rcpt] = _outcome(RecipientStatus.EXPIRED, previous.get("code"),
                                          f"lifetime of the message ran out; last reply: {previous.get('text', '')}")
        waiting = []
        expired = True
    else:
        expired = False
    if waiting:
        row.status = OutboxStatus.DEFERRED
        row.next_attempt_at = now + retry_delay(row.attempts)
        return
    statuses = {(row.outcomes.get(r) or {}).get("status") for r in row.recipients}
    if RecipientStatus.SENT in statuses:
        row.status = OutboxStatus.SENT
    else:
        row.status = OutboxStatus.EXPIRED if expired else OutboxStatus.FAILED
    row.finished_at = now
    row.next_attempt_at = now
    row.bounce_pending = bool(statuses & {RecipientStatus.FAILED, RecipientStatus.EXPIRED})


def _release(batch: _Batch, rows: list[OutboxMessage], *, wait: float) -> None:
    """Rows held back by a relay limit go back to the queue, due again soon; no attempt is counted."""
    due = timezone.now() + timedelta(seconds=wait)
    rows = [r for r in rows if r.id not in batch.lost]
    for row in rows:
        row.status, row.next_attempt_at, row.lease_until, row.claim_token = OutboxStatus.QUEUED, due, None, None
    batch.released.extend(rows)


def _renew_lease(batch: _Batch) -> None:
    """Extend the lease of the batch's rows still being worked on; note the ones another worker took over."""
    owned = set(OutboxMessage.objects.filter(claim_token=batch.token, status=OutboxStatus.SENDING).values_list("id", flat=True))
    OutboxMessage.objects.filter(id__in=owned, claim_token=batch.token).update(
        lease_until=timezone.now() + timedelta(seconds=settings.SPOOL_LEASE_SECONDS)
    )
    batch.lease_renew_at = _renew_time()
    # A row of this batch that is neither recorded yet nor still ours was taken over after our lease ran out.
    recorded = {r.id for r in batch.done} | {r.id for r in batch.released}
    batch.lost |= {i for i in batch.ids if i not in owned and i not in recorded}


def _flush(batch: _Batch) -> None:
    """Write the batch's outcomes, releases and attempt rows in bulk, and drop its receipts kept in the
    database: one short transaction, after the SMTP work."""
    settled = {r.id for r in batch.done + batch.released} | batch.lost
    # Rows never tried (the task stopped early: time limit, database error): back to the queue at once rather
    # than when their lease runs out.
    _release(batch, [r for r in batch.rows or [] if r.id not in settled], wait=0)
    rows = [r for r in batch.done + batch.released if r.id not in batch.lost]
    attempts = [a for a in batch.attempts if a.message_id not in batch.lost]
    if not rows and not attempts:
        return
    with outbox_sql.write_transaction():
        if rows:
            outbox_sql.update_rows(OutboxMessage, rows, _ROW_FIELDS)
        if attempts:
            outbox_sql.insert_rows(DeliveryAttempt, attempts, _ATTEMPT_FIELDS)
        batch.receipts.drop_with_outcomes()


def retry_delay(attempts: int) -> timedelta:
    """Postfix-style backoff: the base delay doubled per attempt, capped."""
    seconds = settings.SPOOL_RETRY_BASE_SECONDS * (2 ** min(max(attempts - 1, 0), 30))
    return timedelta(seconds=min(seconds, settings.SPOOL_RETRY_MAX_SECONDS))


# --- bounces and the sweeper --------------------------------------------------------------------------


def _bounce_rows(rows: list[OutboxMessage]) -> None:
    from spooler.services.bounce import outbox_bounce

    for row in rows:
        try:
            outbox_bounce(row=row)
        except Exception:  # noqa: BLE001 - the sweeper tries again; delivery goes on
            logger.exception("bounce notice for outbox %s not stored; the sweeper will try again", row.id)


def outbox_blobs_collect(*, older_than_seconds: int = 3600) -> int:
    """Delete part bodies no message refers to (old enough that no enqueue is still writing its parts)."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    count, _ = OutboxBlob.objects.filter(parts__isnull=True, created_at__lt=cutoff).delete()
    return count
