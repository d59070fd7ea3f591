"""Delivery: claimed rows go out over SMTP, grouped by relay on a reused connection, and each outcome is recorded.

No database transaction is open while SMTP talks. A message the server accepted gets a receipt at once (one small
INSERT, see receipts.py), so the only duplicate a crash can cause is the one SMTP itself cannot avoid (the server
said 250 and the worker died before that INSERT, RFC 1047). Everything else (the rows' outcomes, attempt rows,
deferrals) is written in bulk once per batch. What an outcome makes of a row is outcomes.py's.
"""
import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from itertools import groupby

from django.conf import settings
from django.utils import timezone

from spooler.models import DeliveryAttempt, OutboxMessage
from spooler.services import broker
from spooler.services.outbound import bounce, outcomes, relay_health
from spooler.services.outbound.attempt_log import attempts_log
from spooler.services.outbound import limits as relay_limits
from spooler.services.outbound.claims import outbox_claim, renew_leases
from spooler.services.outbound.enqueue import outbox_raw
from spooler.services.outbound.receipts import batch_receipts
from spooler.services.outbound.relays import smtp_params
from spooler.services.outbound.smtp_connections import forget_session, has_session, session_for, touch_session
from spooler.services.sql import rows as bulk_rows
from spooler.services.sql.transactions import write_transaction
from spooler.services.inbound.errors import HostRefused
from spooler.services.mail_hosts import account_server_address
from spooler.sessions import NoAnswer, PermanentError, PipeliningSession, SessionError, TransientError

logger = logging.getLogger(__name__)


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
            broker.publish_wake()
            helped = True
        attempted += outbox_deliver_rows(rows=rows)
        if time.monotonic() > deadline:
            broker.publish_wake()
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
        attempts_log(rows=rows, attempts=[a for a in batch.attempts if a.message_id not in batch.lost])
        batch.receipts.discard()  # only once the outcomes are committed: until then they are the record
    bounce.outbox_bounce_rows([r for r in rows if r.bounce_pending and r.id not in batch.lost])
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
            _connect(session, group[0].relay, server=key)
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
                    _connect(session, group[0].relay, server=key)
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


def _connect(session: PipeliningSession, relay, *, server: str) -> None:
    """Connect (if not connected). A relay its user typed in is checked right before, and connected to at the
    address checked; refused by the administrator's rule: a permanent failure (the sender is told), a name not
    found: a temporary one."""
    if not session.connected and relay is not None:
        try:
            session.connect_to = account_server_address(account=relay, side="smtp")
        except HostRefused as exc:
            if exc.unresolved:
                raise TransientError("host not resolved", server=server) from None
            raise PermanentError("not allowed by the administrator (MAIL_ALLOWED_HOSTS, MAIL_PUBLIC_PORTS)",
                                 server=server) from None
    session.connect()


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


def _accepted(batch: _Batch, row: OutboxMessage, result, *, duration_ms: int) -> None:
    """The server took the message for some recipients. Its receipt is written just before the next message's
    content goes out (in the wait for its envelope replies), or at the end of the group: either way before
    anything else could be sent twice (the RFC 1047 window is that one INSERT). The row's outcome goes out with
    the batch."""
    now = timezone.now()
    batch.attempts.append(outcomes.accepted(row, result, now=now, duration_ms=duration_ms))
    batch.pending_receipt = (row.id, now)
    batch.done.append(row)


def _write_pending_receipt(batch: _Batch) -> None:
    if batch.pending_receipt is not None:
        batch.receipts.write(*batch.pending_receipt)
        batch.pending_receipt = None


def _failed_attempt(batch: _Batch, row: OutboxMessage, error: SessionError, *, duration_ms: int,
                    recipients: list[str] | None = None) -> None:
    batch.attempts.append(outcomes.failed(row, error, now=timezone.now(), duration_ms=duration_ms,
                                          recipients=recipients))
    batch.done.append(row)


def _release(batch: _Batch, rows: list[OutboxMessage], *, wait: float) -> None:
    """Rows held back by a relay limit go back to the queue, due again soon; no attempt is counted."""
    due = timezone.now() + timedelta(seconds=wait)
    rows = [r for r in rows if r.id not in batch.lost]
    for row in rows:
        outcomes.released(row, due=due)
    batch.released.extend(rows)


def _renew_lease(batch: _Batch) -> None:
    """Extend the lease of the batch's rows still being worked on; note the ones another worker took over."""
    owned = renew_leases(token=batch.token, ids=batch.ids)
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
    with write_transaction():
        if rows:
            bulk_rows.update_rows(OutboxMessage, rows, outcomes.ROW_FIELDS)
        if attempts:
            bulk_rows.insert_rows(DeliveryAttempt, attempts, outcomes.ATTEMPT_FIELDS)
        batch.receipts.drop_with_outcomes()
