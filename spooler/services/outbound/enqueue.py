"""Into the spool: a message becomes an outbox row, its bytes stored apart (large part bodies cut out once per
content hash), and a worker is woken once the transaction commits. Only rows are written here: no SMTP, no Redis
before the commit."""
import hashlib
from datetime import timedelta
from email import message_from_bytes
from email.policy import compat32

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from mailsite.mailboxes.outgoing import OutgoingMail
from spooler.models import OutboxBlob, OutboxBody, OutboxMessage, OutboxPart, OutboxStatus
from spooler.services import broker
from spooler.services.outbound.quota import sending_quota_over
from spooler.sessions import Attachment, Email
from spooler.sessions.headers import parse_addresses


def outbox_send(*, mail: OutgoingMail, relay=None, user=None, not_before=None) -> OutboxMessage:
    """Spool a message written in the webmail (see outbox_enqueue). Bcc is in the envelope only."""
    return outbox_enqueue(email=outgoing_email(mail), relay=relay, user=user, not_before=not_before)


def outgoing_email(mail: OutgoingMail) -> Email:
    """The builder's Email for a page's OutgoingMail (the webmail never imports spooler.sessions)."""
    return Email(
        sender=mail.sender, to=list(mail.to), cc=list(mail.cc), bcc=list(mail.bcc), subject=mail.subject,
        text=mail.text, in_reply_to=mail.in_reply_to or None, references=list(mail.references),
        html=mail.html, reply_to=list(mail.reply_to), headers=dict(mail.headers),
        attachments=[Attachment(filename=name, content_type=ctype, data=bytes(data))
                     for name, ctype, data in mail.attachments],
    )


def outbox_recall(*, user, outbox_id: int) -> tuple[OutboxMessage, OutgoingMail] | None:
    """Undo send: cancel the user's row if it still waits for its first attempt, and give back what it held.

    None when it is not the user's, or already claimed, tried or sent: a conditional UPDATE, so a worker that
    claims the row at the same moment either sends it or finds it cancelled, never both.
    """
    row = OutboxMessage.objects.filter(id=outbox_id, user=user).first()
    if row is None:
        return None
    cancelled = OutboxMessage.objects.filter(
        id=row.id, user=user, status=OutboxStatus.QUEUED, attempts=0
    ).update(status=OutboxStatus.CANCELLED, finished_at=timezone.now())
    if not cancelled:
        return None
    return row, outgoing_from_raw(outbox_raw(row), sender=row.envelope_from, recipients=row.recipients)


def outgoing_from_raw(raw: bytes, *, sender: str, recipients: list[str]) -> OutgoingMail:
    """The OutgoingMail a spooled message was built from (Bcc: the envelope's recipients not in To or Cc)."""
    email = Email.parse(raw)

    def plain(values):
        return [addr for value in values for _name, addr in parse_addresses(value) if addr]

    to, cc = plain(email.to), plain(email.cc)
    shown = {a.lower() for a in to + cc}
    text = email.text.replace("\r\n", "\n")
    return OutgoingMail(
        sender=sender, to=to, cc=cc, bcc=[r for r in recipients if r.lower() not in shown],
        subject=email.subject or "", text=text[:-1] if text.endswith("\n") else text,
        attachments=[(a.filename or "attachment", a.content_type, a.data) for a in email.attachments],
        in_reply_to=email.in_reply_to or "", references=list(email.references),
    )


def outbox_enqueue(*, email: Email, relay=None, user=None, not_before=None, priority: int = 0) -> OutboxMessage:
    """Store a message in the spool; the delivery worker is woken once the transaction commits.

    Only writes rows: no SMTP, no Redis here. `not_before` schedules the send. A user's message counts against
    their sending quota: SendingQuotaExceeded, and nothing is written, when it would go over.
    """
    raw = email.to_bytes()
    now = timezone.now()
    stored, cuts = _cut_large_parts(raw)
    due = max(not_before, now) if not_before else now  # (a message sent later lives its lifetime from then)
    row = OutboxMessage(
        user=user,
        relay=relay,
        envelope_from=email.envelope_sender(),
        recipients=list(dict.fromkeys(email.envelope_recipients())),
        message_id=email.message_id,
        subject=(email.subject or "")[:998],
        priority=priority,
        not_before=not_before,
        next_attempt_at=due,
        expires_at=due + timedelta(seconds=settings.SPOOL_LIFETIME_SECONDS),
        created_at=now,
    )
    with transaction.atomic(savepoint=False):  # (inside the page's transaction a savepoint would only cost)
        # (returned, raised outside the block: an exception inside would spoil the caller's transaction)
        over = sending_quota_over(user_id=user.pk, recipients=len(row.recipients), now=now) if user else None
        if over is None:
            _store(row, stored, cuts, now=now)
    if over is not None:
        raise over
    if due > now:
        transaction.on_commit(lambda: broker.outbox_wake_at(due))
    else:
        transaction.on_commit(broker.outbox_wake)
    return row


def _store(row: OutboxMessage, stored: bytes, cuts: list, *, now) -> None:
    row.save(force_insert=True)
    OutboxBody.objects.create(message=row, raw=stored)
    if cuts:
        # A body stored already has its time refreshed (under its row lock), so that the collector, which
        # deletes bodies older than its grace period with no part, keeps it (spooler/services/storage.py).
        bodies = {h: data for h, data, _ in cuts}  # (one statement must not upsert a row twice)
        OutboxBlob.objects.bulk_create(
            [OutboxBlob(sha256=h, data=data, size=len(data), created_at=now) for h, data in bodies.items()],
            update_conflicts=True, unique_fields=["sha256"], update_fields=["created_at"],
        )
        OutboxPart.objects.bulk_create([OutboxPart(message=row, blob_id=h, offset=off) for h, _, off in cuts])


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

