"""The sending quota of a user: messages and recipients per hour and per day (the last 60 minutes, the last 24 hours),
counted from the user's own outbox rows (cancelled ones aside) in one indexed query (user, created_at). Site mail
(user=None: password resets, bounce notices, the contact form) is not counted.

The check runs inside the enqueue's transaction, after taking a lock on the user's row (PostgreSQL: SELECT ... FOR
UPDATE; SQLite: every write transaction is serialised already), so two sends of one user at the edge of the quota
cannot both pass: the second one counts the first.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, Func, IntegerField, Min, Q, Sum
from django.utils.translation import gettext as _

from spooler.models import OutboxMessage, OutboxStatus, SendingQuota

HOUR, DAY = timedelta(hours=1), timedelta(days=1)


class SendingQuotaExceeded(Exception):
    """One more message would go over the user's quota. `message` is for the user; `retry_after` in seconds."""

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message)
        self.message, self.retry_after = message, retry_after


@dataclass(frozen=True)
class Quota:
    """Limits of one user; 0 is no limit."""
    messages_per_hour: int
    recipients_per_hour: int
    messages_per_day: int
    recipients_per_day: int


class _ArrayLength(Func):
    """The length of a JSON array column (SQLite's json_array_length, PostgreSQL's jsonb_array_length)."""
    function = "json_array_length"
    output_field = IntegerField()

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, function="jsonb_array_length", **extra)


def sending_quota_for(*, user_id: int) -> Quota | None:
    """The user's limits: the site's settings, or the administrator's override for them; None: unlimited."""
    override = SendingQuota.objects.filter(user_id=user_id).first()
    if override is not None and override.unlimited:
        return None

    def pick(name: str) -> int:
        own = getattr(override, name, None) if override is not None else None
        return own if own is not None else getattr(settings, f"SEND_QUOTA_{name.upper()}")

    return Quota(*(pick(name) for name in ("messages_per_hour", "recipients_per_hour", "messages_per_day",
                                           "recipients_per_day")))


def sending_quota_over(*, user_id: int, recipients: int, now: datetime) -> SendingQuotaExceeded | None:
    """The error to raise if one more message to `recipients` recipients would go over a limit, else None. Call it
    inside the transaction that writes the message."""
    quota = sending_quota_for(user_id=user_id)
    if quota is None or not any(vars(quota).values()):
        return None
    # The lock that makes a user's sends count one after the other (a no-op on SQLite, serialised anyway).
    list(get_user_model().objects.select_for_update().filter(id=user_id).values_list("id"))
    last_hour = Q(created_at__gte=now - HOUR)
    sent = (OutboxMessage.objects.filter(user_id=user_id, created_at__gte=now - DAY)
            .exclude(status=OutboxStatus.CANCELLED)
            .aggregate(messages_hour=Count("id", filter=last_hour),
                       recipients_hour=Sum(_ArrayLength("recipients"), filter=last_hour),
                       oldest_hour=Min("created_at", filter=last_hour),
                       messages_day=Count("id"), recipients_day=Sum(_ArrayLength("recipients")),
                       oldest_day=Min("created_at")))
    checks = (
        (quota.messages_per_hour, sent["messages_hour"] + 1, sent["oldest_hour"], HOUR,
         _("You may send %(limit)s messages per hour.")),
        (quota.recipients_per_hour, (sent["recipients_hour"] or 0) + recipients, sent["oldest_hour"], HOUR,
         _("You may send to %(limit)s recipients per hour.")),
        (quota.messages_per_day, sent["messages_day"] + 1, sent["oldest_day"], DAY,
         _("You may send %(limit)s messages per day.")),
        (quota.recipients_per_day, (sent["recipients_day"] or 0) + recipients, sent["oldest_day"], DAY,
         _("You may send to %(limit)s recipients per day.")),
    )
    for limit, would_be, oldest, window, words in checks:
        if limit and would_be > limit:
            # When the oldest message counted leaves the window (one message more may fit then: a hint, not a
            # promise).
            retry_after = max(1, int(((oldest or now) + window - now).total_seconds()))
            return SendingQuotaExceeded(
                " ".join([_("Your sending quota is used up: this message was not sent."), words % {"limit": limit},
                          _("Try again later or ask the administrator.")]),
                retry_after=retry_after)
    return None
