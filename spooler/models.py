"""The outbound spool. The row is the truth; a Celery message only says "wake up"."""
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils import timezone


class OutboxStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    DEFERRED = "deferred", _("Deferred")
    HELD = "held", _("Held")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Expired")
    CANCELLED = "cancelled", _("Cancelled")


# Rows in these states are waiting for a delivery attempt.
DUE_STATUSES = (OutboxStatus.QUEUED, OutboxStatus.DEFERRED)
# Rows in these states are done: nothing will be tried again unless an operator requeues them.
FINAL_STATUSES = (OutboxStatus.SENT, OutboxStatus.FAILED, OutboxStatus.EXPIRED, OutboxStatus.CANCELLED)


class RecipientStatus(models.TextChoices):
    SENT = "sent", _("Accepted by the relay")
    DEFERRED = "deferred", _("Deferred (4xx): tried again")
    FAILED = "failed", _("Refused (5xx)")
    EXPIRED = "expired", _("Expired")


# A recipient in these states is done with: accepted, or refused or expired for good.
SETTLED_RECIPIENT_STATUSES = frozenset({RecipientStatus.SENT, RecipientStatus.FAILED, RecipientStatus.EXPIRED})


class OutboxBlob(models.Model):
    """Content-addressed storage for large MIME part bodies (attachments), shared by every message that has them.

    The key is the SHA-256 of the stored bytes (the part body exactly as it appears in the message, e.g. its
    base64 lines), so the same file attached to 1,000 messages is stored once.
    """

    sha256 = models.CharField(max_length=64, primary_key=True)
    data = models.BinaryField()
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.sha256[:12]}… ({self.size} bytes)"


class OutboxMessage(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="outbox"
    )
    # The SMTP relay: the sender's account, or None for the site's default relay (settings.EMAIL_*).
    relay = models.ForeignKey(
        "mailboxes.MailAccount", null=True, blank=True, on_delete=models.SET_NULL, related_name="outbox"
    )
    envelope_from = models.CharField(max_length=998)
    # Every envelope recipient. Those still to be tried are the ones without a final outcome in `outcomes`.
    recipients = models.JSONField()
    # The message bytes are in `body` (OutboxBody), with large part bodies cut out into `parts`; see outbox_raw().
    message_id = models.CharField(max_length=998)
    subject = models.CharField(max_length=998, blank=True)

    status = models.CharField(max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.QUEUED)
    priority = models.SmallIntegerField(default=0)
    # Scheduled send: no attempt before this time.
    not_before = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField()
    lease_until = models.DateTimeField(null=True, blank=True)
    # Set by the claim so the claimer can read back exactly the rows it won.
    claim_token = models.UUIDField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_code = models.IntegerField(null=True, blank=True)
    last_text = models.TextField(blank=True)
    # Per-recipient outcome: {address: {"status": RecipientStatus, "code": int|None, "text": str}}.
    outcomes = models.JSONField(default=dict, blank=True)
    # After this the message expires (a transient failure past it is final). Set at enqueue and by a requeue.
    expires_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    # When the row reached a final status (sent, failed, expired, cancelled).
    finished_at = models.DateTimeField(null=True, blank=True)
    # When the bounce notice for failed recipients was stored (or logged, for site mail without an inbox).
    bounced_at = models.DateTimeField(null=True, blank=True)
    # True while a bounce notice is owed (some recipient failed or expired) and not yet stored.
    bounce_pending = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # A claim walks this, one status at a time, in its ORDER BY order and stops after a batch, instead of
            # sorting every due row (which made each claim cost as much as the spool is long).
            models.Index(fields=["status", "-priority", "next_attempt_at", "id"], name="spooler_outbox_due_order"),
            models.Index(fields=["status", "created_at"], name="spooler_outbox_status_created"),
            models.Index(fields=["finished_at"], name="spooler_outbox_finished"),
            models.Index(fields=["id"], condition=models.Q(bounce_pending=True), name="spooler_outbox_bounce_owed"),
            # A user's Outbox and Sent pages, newest first by keyset.
            models.Index(fields=["user", "-id"], name="spooler_outbox_user"),
            # A user's sending quota counts their rows of the last day.
            models.Index(fields=["user", "created_at"], name="spooler_outbox_user_created"),
            # /metrics: the latency of the recently sent rows read from the index alone (not from the wide rows),
            # and the bounces per relay at the cost of the bounced rows only.
            models.Index(fields=["status", "finished_at", "sent_at", "created_at", "not_before"],
                         name="spooler_outbox_sent_latency"),
            models.Index(fields=["relay"], condition=models.Q(bounced_at__isnull=False), name="spooler_outbox_bounced"),
        ]

    def __str__(self):
        return f"{self.subject or '(no subject)'} → {', '.join(self.recipients)}"

    @property
    def pending_recipients(self) -> list[str]:
        """Recipients not yet accepted or refused for good."""
        return [r for r in self.recipients
                if (self.outcomes.get(r) or {}).get("status") not in SETTLED_RECIPIENT_STATUSES]


class OutboxBody(models.Model):
    """A spooled message's bytes (large part bodies cut out into OutboxPart), apart from its row: the row is
    rewritten at every claim and outcome, and a body inside it would be copied each time (on SQLite that made
    a claim's UPDATE some 40 times dearer)."""

    message = models.OneToOneField(OutboxMessage, on_delete=models.CASCADE, primary_key=True, related_name="body")
    raw = models.BinaryField()


class OutboxPart(models.Model):
    """A large part body cut out of a message's raw bytes: insert blob.data at `offset` of the stored raw."""

    message = models.ForeignKey(OutboxMessage, on_delete=models.CASCADE, related_name="parts")
    blob = models.ForeignKey(OutboxBlob, on_delete=models.PROTECT, related_name="parts")
    offset = models.PositiveIntegerField()

    class Meta:
        ordering = ["offset"]


class OutboxReceipt(models.Model):
    """"The relay said 250 to this message", where the database is not SQLite (see services/outbound/receipts.py, which
    keeps SQLite's receipts in files): one tiny INSERT per message, written before the next message's content
    goes out, while the rows' full outcomes are written in bulk at the end of the batch. If the worker dies in
    between, the sweeper finds the receipt and records the row as sent instead of sending it again."""

    # No constraint and no index: the table is tiny (one batch per worker at most) and written once per message.
    message = models.ForeignKey(OutboxMessage, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False,
                                related_name="+")
    claim_token = models.UUIDField()
    at = models.DateTimeField()


class DeliveryAttempt(models.Model):
    message = models.ForeignKey(OutboxMessage, on_delete=models.CASCADE, related_name="delivery_attempts")
    at = models.DateTimeField(default=timezone.now)
    code = models.IntegerField(null=True, blank=True)
    text = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    # What the attempt led to: sent, deferred, failed, expired.
    outcome = models.CharField(max_length=10, blank=True)
    # Per-recipient refusals when the server accepted some recipients and refused others.
    refused = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        # /metrics counts attempts per outcome from this index alone (not from the rows, with their texts).
        indexes = [models.Index(fields=["message", "outcome"], name="spooler_attempt_outcome")]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.outcome} {self.code or ''}".strip()


class RelayLimit(models.Model):
    """Optional limits for one SMTP relay (host and port), enforced across all worker processes."""

    host = models.CharField(max_length=255)
    port = models.PositiveIntegerField()
    messages_per_minute = models.PositiveIntegerField(null=True, blank=True, help_text=_("Empty: no limit."))
    max_connections = models.PositiveIntegerField(null=True, blank=True, help_text=_("Empty: no limit."))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["host", "port"], name="spooler_relaylimit_unique_relay")]

    def __str__(self):
        return f"{self.host}:{self.port}"


class SendingQuota(models.Model):
    """The administrator's exception to the sending quota (SEND_QUOTA_*) for one user: other limits, or none."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sending_quota")
    unlimited = models.BooleanField(default=False, help_text=_("No sending quota at all for this user."))
    messages_per_hour = models.PositiveIntegerField(null=True, blank=True, help_text=_("Empty: the site's default."))
    recipients_per_hour = models.PositiveIntegerField(null=True, blank=True, help_text=_("Empty: the site's default."))
    messages_per_day = models.PositiveIntegerField(null=True, blank=True, help_text=_("Empty: the site's default."))
    recipients_per_day = models.PositiveIntegerField(null=True, blank=True, help_text=_("Empty: the site's default."))

    class Meta:
        verbose_name = _("sending quota")
        verbose_name_plural = _("sending quotas")

    def __str__(self):
        return str(self.user)


class CheckNowRequest(models.Model):
    """One "Check now" of a user, kept a minute: MAIL_CHECK_NOW_PER_MINUTE counts them in the database, shared by
    every web process (and by nothing else: the tests' and other sites' Redis counters cannot interfere)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["user", "created_at"], name="spooler_checknow_user_created")]


class UserServers(models.Model):
    """Which servers of a mail account its user typed in (the account form), as opposed to the administrator:
    those are checked against MAIL_ALLOWED_HOSTS / MAIL_PUBLIC_PORTS again right before every poll and delivery
    connects, at the very address checked. No row: both servers are the administrator's."""

    account = models.OneToOneField("mailboxes.MailAccount", on_delete=models.CASCADE, primary_key=True,
                                   related_name="user_servers")
    incoming = models.BooleanField(default=False)
    smtp = models.BooleanField(default=False)
