"""What an attempt makes of a row, as pure functions over the row in memory (no SMTP, no database): per-recipient
outcomes, the row's status, when it is tried again. Delivery calls them and writes the rows in bulk; the sweeper
calls them for the rows it recovers from receipts."""
from types import SimpleNamespace

from spooler.models import SETTLED_RECIPIENT_STATUSES, OutboxMessage, OutboxStatus, RecipientStatus
from spooler.services import rules
from spooler.sessions import PermanentError, RecipientsDeferred, RecipientsRefused, SessionError


# The row fields an outcome changes, and the fields of the attempt rows: what a batch writes in bulk.
ROW_FIELDS = ["status", "attempts", "last_code", "last_text", "outcomes", "next_attempt_at", "lease_until",
              "claim_token", "sent_at", "finished_at", "bounce_pending"]
ATTEMPT_FIELDS = ["message", "at", "code", "text", "duration_ms", "outcome", "refused"]


def Attempt(**values) -> SimpleNamespace:  # noqa: N802 - stands for a DeliveryAttempt row
    """The fields of a DeliveryAttempt to insert at the end of the batch (a model instance costs more)."""
    return SimpleNamespace(**values)


def outcome(status: RecipientStatus, code, text: str) -> dict:
    """One recipient's entry in OutboxMessage.outcomes."""
    return {"status": status.value, "code": code, "text": text[:1000]}


def accepted(row: OutboxMessage, result, *, now, duration_ms: int) -> SimpleNamespace:
    """The server took the message for some recipients (result: a SendResult). Returns the attempt."""
    outcomes = dict(row.outcomes)
    for rcpt in result.accepted:
        outcomes[rcpt] = outcome(RecipientStatus.SENT, result.code, result.text)
    for rcpt, (code, text) in (result.refused or {}).items():
        outcomes[rcpt] = outcome(rules.recipient_status(code), code, text)
    row.outcomes = outcomes
    row.attempts += 1
    row.last_code, row.last_text = result.code, result.text
    row.sent_at = row.sent_at or now
    settle(row, now=now)
    refused = {r: list(reply) for r, reply in (result.refused or {}).items()}
    return Attempt(message_id=row.id, at=now, code=result.code, text=result.text, duration_ms=duration_ms,
                   outcome=row.status, refused=refused, recipients=len(result.accepted) + len(refused))


def failed(row: OutboxMessage, error: SessionError, *, now, duration_ms: int,
           recipients: list[str] | None = None) -> SimpleNamespace:
    """Nothing was accepted: 4xx, timeout, dropped connection → deferred; 5xx → failed. Returns the attempt."""
    recipients = recipients if recipients is not None else row.pending_recipients
    outcomes = dict(row.outcomes)
    refused = error.refused if isinstance(error, RecipientsRefused | RecipientsDeferred) else None
    for rcpt in recipients:
        if refused and rcpt in refused:
            code, text = refused[rcpt]
            outcomes[rcpt] = outcome(rules.recipient_status(code), code, f"{text}")
        else:
            status = RecipientStatus.FAILED if isinstance(error, PermanentError) else RecipientStatus.DEFERRED
            outcomes[rcpt] = outcome(status, error.code, str(error))
    row.outcomes = outcomes
    row.attempts += 1
    row.last_code, row.last_text = error.code, str(error)
    settle(row, now=now)
    return Attempt(message_id=row.id, at=now, code=error.code, text=str(error), duration_ms=duration_ms,
                   outcome=row.status, refused={r: list(v) for r, v in (refused or {}).items()},
                   recipients=len(recipients))


RECEIPTED_TEXT = "accepted (recorded from its receipt: the worker stopped before recording the batch)"


def receipted(row: OutboxMessage, *, at) -> SimpleNamespace:
    """The relay said 250 at `at` (a receipt says so) but the worker died before recording it: sent, for every
    recipient still pending. Returns the attempt."""
    pending = row.pending_recipients
    for rcpt in pending:
        row.outcomes[rcpt] = outcome(RecipientStatus.SENT, 250, RECEIPTED_TEXT)
    row.attempts += 1
    row.last_code, row.last_text, row.sent_at = 250, RECEIPTED_TEXT, row.sent_at or at
    settle(row, now=at)
    return Attempt(message_id=row.id, at=at, code=250, text=RECEIPTED_TEXT, duration_ms=0, outcome=row.status,
                   refused={}, recipients=len(pending))


def settle(row: OutboxMessage, *, now) -> None:
    """Set the row's status from its per-recipient outcomes: deferred while some recipient waits (until the
    lifetime runs out), else final: sent if anyone accepted it, failed or expired if no one did."""
    row.lease_until = None
    row.claim_token = None
    waiting = [r for r in row.recipients if (row.outcomes.get(r) or {}).get("status") not in SETTLED_RECIPIENT_STATUSES]
    expired = bool(waiting and row.expires_at and now >= row.expires_at)
    if expired:
        for rcpt in waiting:
            previous = row.outcomes.get(rcpt) or {}
            row.outcomes[rcpt] = outcome(RecipientStatus.EXPIRED, previous.get("code"),
                                         f"lifetime of the message ran out; last reply: {previous.get('text', '')}")
        waiting = []
    if waiting:
        row.status = OutboxStatus.DEFERRED
        row.next_attempt_at = now + rules.outbox_retry_delay(row.attempts)
        return
    statuses = {(row.outcomes.get(r) or {}).get("status") for r in row.recipients}
    if RecipientStatus.SENT in statuses:
        row.status = OutboxStatus.SENT
    else:
        row.status = OutboxStatus.EXPIRED if expired else OutboxStatus.FAILED
    row.finished_at = now
    row.next_attempt_at = now
    row.bounce_pending = bool(statuses & {RecipientStatus.FAILED, RecipientStatus.EXPIRED})


def released(row: OutboxMessage, *, due) -> None:
    """Held back (a relay limit, a relay being probed) or never tried: queued again, due at `due`, no attempt."""
    row.status, row.next_attempt_at, row.lease_until, row.claim_token = OutboxStatus.QUEUED, due, None, None
