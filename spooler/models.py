"""The outbound spool. The row is the truth; a Celery message only says "wake up"."""
from django.conf import settings
from django.db import models


class OutboxStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    DEFERRED = "deferred", "Deferred"
    HELD = "held", "Held"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    EXPIRED = "expired", "Expired"
    CANCELLED = "cancelled", "Cancelled"


# Rows in these states are waiting for a delivery attempt.
DUE_STATUSES = (OutboxStatus.QUEUED, OutboxStatus.DEFERRED)


class OutboxMessage(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="outbox"
    )
    # The SMTP relay: the sender's account, or None for the site's default relay (settings.EMAIL_*).
    relay = models.ForeignKey(
        "webmail.MailAccount", null=True, blank=True, on_delete=models.SET_NULL, related_name="outbox"
    )
    envelope_from = models.CharField(max_length=998)
    recipients = models.JSONField()
    raw = models.BinaryField()
    message_id = models.CharField(max_length=998)
    subject = models.CharField(max_length=998, blank=True)

    status = models.CharField(max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.QUEUED)
    priority = models.SmallIntegerField(default=0)
    not_before = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField()
    lease_until = models.DateTimeField(null=True, blank=True)
    # Set by the claiming UPDATE so the claimer can read back exactly the rows it won.
    claim_token = models.UUIDField(null=True, blank=True, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_code = models.IntegerField(null=True, blank=True)
    last_text = models.TextField(blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self):
        return f"{self.subject or '(no subject)'} → {', '.join(self.recipients)}"


class DeliveryAttempt(models.Model):
    message = models.ForeignKey(OutboxMessage, on_delete=models.CASCADE, related_name="delivery_attempts")
    at = models.DateTimeField(auto_now_add=True)
    code = models.IntegerField(null=True, blank=True)
    text = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    # Per-recipient refusals when the server accepted some recipients and refused others.
    refused = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at"]
