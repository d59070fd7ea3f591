"""Reads for the Outbox and Sent pages: the user's spooled messages and their delivery in plain words."""
import dataclasses

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.timesince import timeuntil
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from spooler.models import FINAL_STATUSES, OutboxMessage, OutboxStatus, RecipientStatus
from spooler.services.outbound.contents import outbox_contents

PAGE_SIZE = 50
# Settled: shown in Sent. (Cancelled ones, undone sends, are in neither list.)
SENT_STATUSES = tuple(s for s in FINAL_STATUSES if s != OutboxStatus.CANCELLED)



@dataclasses.dataclass
class OutboxPage:
    rows: list
    next_before: int | None  # the "Older" link's cursor
    first: bool


def outbox_page(*, user, sent: bool, before=None) -> OutboxPage:
    rows = OutboxMessage.objects.filter(user=user)
    rows = rows.filter(status__in=SENT_STATUSES) if sent else rows.exclude(status__in=FINAL_STATUSES)
    cursor = int(before) if str(before or "").isdigit() else None
    if cursor is not None:
        rows = rows.filter(id__lt=cursor)
    found = list(rows.order_by("-id")[:PAGE_SIZE + 1])
    more = len(found) > PAGE_SIZE
    found = found[:PAGE_SIZE]
    return OutboxPage(rows=found, next_before=found[-1].id if more else None, first=cursor is None)


def outbox_rows(*, user, ids):
    return OutboxMessage.objects.filter(user=user, id__in=ids).order_by("-id")


def outbox_get(*, user, outbox_id: int) -> OutboxMessage:
    return get_object_or_404(OutboxMessage, id=outbox_id, user=user)


def contents(row: OutboxMessage):
    return outbox_contents(row=row)


def row_state(row: OutboxMessage, *, now=None) -> dict:
    """A spooled message's state as the pages show it, and as the Outbox's live JSON carries it."""
    now = now or timezone.now()
    status = row.status
    text = row.get_status_display()
    recipients = [{"address": address, **_recipient(row.outcomes.get(address))} for address in row.recipients]
    if status == OutboxStatus.QUEUED and row.not_before and row.not_before > now:
        text = _("Scheduled: sends in %(time)s") % {"time": timeuntil(row.not_before, now)}
    elif status == OutboxStatus.DEFERRED:
        # The server's own words: the waiting recipients' replies (or the connection's error).
        reasons = list(dict.fromkeys(r["text"] for r in recipients if r["status"] == "deferred" and r["text"]))
        reason = "; ".join(reasons) or row.last_text
        text = _("Deferred: %(reason)s") % {"reason": reason} if reason else _("Deferred")
        if row.next_attempt_at and row.next_attempt_at > now:
            text += " " + _("(next try in %(time)s)") % {"time": timeuntil(row.next_attempt_at, now)}
    elif status in (OutboxStatus.FAILED, OutboxStatus.EXPIRED) and row.bounced_at:
        text = _("%(status)s: a bounce notice is in your Inbox") % {"status": text}
    if status == OutboxStatus.SENT and any(r["status"] in ("failed", "expired") for r in recipients):
        text = _("Sent, but not to every recipient")
    return {"id": row.id, "status": status, "text": text, "settled": status in FINAL_STATUSES,
            "next_attempt_at": row.next_attempt_at.isoformat() if status == OutboxStatus.DEFERRED else None,
            "recipients": recipients}


def _recipient(outcome) -> dict:
    if not outcome:
        return {"status": "waiting", "status_text": str(WAITING), "code": None, "text": ""}
    status = outcome.get("status", "")
    return {"status": status, "status_text": status_text(status), "code": outcome.get("code"),
            "text": outcome.get("text", "")}


WAITING = pgettext_lazy("a recipient's delivery", "waiting")
# A recipient's state and an attempt's outcome, in the reader's language (the codes are stored).
_STATUS_TEXTS = {
    RecipientStatus.SENT: pgettext_lazy("a recipient's delivery", "sent"),
    RecipientStatus.DEFERRED: pgettext_lazy("a recipient's delivery", "deferred"),
    RecipientStatus.FAILED: pgettext_lazy("a recipient's delivery", "failed"),
    RecipientStatus.EXPIRED: pgettext_lazy("a recipient's delivery", "expired"),
}


def status_text(status: str) -> str:
    """A recipient's status or an attempt's outcome (both OutboxStatus values) in the reader's language."""
    if status in _STATUS_TEXTS:
        return str(_STATUS_TEXTS[status])
    return str(dict(OutboxStatus.choices).get(status, status)).lower()
