"""The API's reads: a user's spooled messages (never another user's) and how each one stands."""
import datetime
import json

from django.conf import settings
from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _

from mailsite.api import problems
from mailsite.api.models import ApiToken
from spooler.models import OutboxMessage, OutboxStatus


def message_get(*, user, message_id: int) -> OutboxMessage:
    row = OutboxMessage.objects.filter(id=message_id, user=user).first()
    if row is None:
        raise problems.ApiProblem(404, _("You have no message with this id."))
    return row


def messages_page(*, user, statuses=(), created_after=None, created_before=None, recipient: str = "",
                  cursor: int | None = None, limit: int = 50) -> tuple[list[OutboxMessage], int | None]:
    """Newest first, by keyset on id (no OFFSET): the rows and the cursor of the next page (None on the last)."""
    rows = OutboxMessage.objects.filter(user=user)
    if statuses:
        rows = rows.filter(status__in=statuses)
    if created_after:
        rows = rows.filter(created_at__gt=_aware(created_after))
    if created_before:
        rows = rows.filter(created_at__lt=_aware(created_before))
    if recipient:
        # The JSON list's text holds each address quoted, on SQLite and PostgreSQL alike: '"bob@example.com"'.
        rows = rows.annotate(recipients_text=Cast("recipients", TextField())).filter(
            recipients_text__icontains=json.dumps(recipient.strip()))
    if cursor is not None:
        rows = rows.filter(id__lt=cursor)
    limit = max(1, min(limit, settings.API_PAGE_MAX))
    found = list(rows.order_by("-id")[:limit + 1])
    more = len(found) > limit
    found = found[:limit]
    return found, (found[-1].id if more else None)


def _aware(value: datetime.datetime) -> datetime.datetime:
    return timezone.make_aware(value, datetime.timezone.utc) if timezone.is_naive(value) else value


def message_out(row: OutboxMessage) -> dict:
    """A spooled message as the API shows it: its state overall and per recipient."""
    return {
        "id": row.id, "status": row.status, "message_id": row.message_id, "from": row.envelope_from,
        "subject": row.subject, "recipients": [_recipient(row, address) for address in row.recipients],
        "attempts": row.attempts, "last_code": row.last_code, "last_text": row.last_text,
        "created_at": row.created_at, "send_at": row.not_before,
        "next_attempt_at": row.next_attempt_at if row.status in (OutboxStatus.QUEUED, OutboxStatus.DEFERRED) else None,
        "sent_at": row.sent_at, "finished_at": row.finished_at, "expires_at": row.expires_at,
    }


def _recipient(row: OutboxMessage, address: str) -> dict:
    outcome = row.outcomes.get(address) or {}
    if outcome.get("status"):
        return {"address": address, "status": outcome["status"], "code": outcome.get("code"),
                "text": outcome.get("text") or ""}
    status = row.status if row.status in (OutboxStatus.SENDING, OutboxStatus.CANCELLED) else "queued"
    return {"address": address, "status": status, "code": None, "text": ""}


def api_tokens_live(*, user):
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).order_by("-created_at", "-id")
