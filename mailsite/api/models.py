"""API tokens (only their SHA-256 is stored) and the Idempotency-Key records of sends."""
from django.conf import settings
from django.db import models
from django.utils import timezone


class ApiToken(models.Model):
    """A user's bearer token. The secret is shown once at creation; the database keeps its SHA-256 only, and a
    short prefix so that the user can tell their tokens apart."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"


class IdempotencyKey(models.Model):
    """A POST's Idempotency-Key, written in the same transaction as the spool row it made: the unique (user, key)
    makes concurrent retries wait for the first and then read its row, so a key sends one message at most."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # SHA-256 of the request's JSON, canonical: the same key with another body is refused (422).
    fingerprint = models.CharField(max_length=64)
    # Null only once an operator deleted the spool row: the key still refuses a second send.
    message = models.ForeignKey("spooler.OutboxMessage", null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="api_idempotencykey_user_key")]

    def __str__(self):
        return self.key
