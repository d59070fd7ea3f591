"""The reader's side: mail accounts and the messages fetched into them."""
import zlib

from django.conf import settings
from django.db import models


class Security(models.TextChoices):
    NONE = "none", "None (plain text)"
    STARTTLS = "starttls", "STARTTLS / STLS"
    TLS = "tls", "Implicit TLS"


class Protocol(models.TextChoices):
    POP3 = "pop3", "POP3"
    IMAP = "imap", "IMAP"


class MailAccount(models.Model):
    """One mailbox a user reads and sends from: an incoming server and an outgoing SMTP relay."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mail_accounts")
    address = models.EmailField()
    display_name = models.CharField(max_length=200, blank=True)

    incoming_protocol = models.CharField(max_length=4, choices=Protocol.choices, default=Protocol.POP3)
    incoming_host = models.CharField(max_length=255)
    incoming_port = models.PositiveIntegerField()
    incoming_username = models.CharField(max_length=255)
    incoming_password = models.CharField(max_length=255)
    incoming_security = models.CharField(max_length=8, choices=Security.choices, default=Security.TLS)

    smtp_host = models.CharField(max_length=255)
    smtp_port = models.PositiveIntegerField()
    smtp_username = models.CharField(max_length=255, blank=True)
    smtp_password = models.CharField(max_length=255, blank=True)
    smtp_security = models.CharField(max_length=8, choices=Security.choices, default=Security.STARTTLS)

    # Poll bookkeeping: a lease so that one poll per account runs at a time.
    poll_lease_until = models.DateTimeField(null=True, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_poll_error = models.TextField(blank=True)
    last_poll_fetched = models.PositiveIntegerField(default=0)

    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["address"]

    def __str__(self):
        return self.address

    @property
    def from_header(self) -> str:
        return f"{self.display_name} <{self.address}>" if self.display_name else self.address


class Message(models.Model):
    """A message fetched from an account's server. The raw bytes are kept; parsed fields are for display."""

    account = models.ForeignKey(MailAccount, on_delete=models.CASCADE, related_name="messages")
    # Server identity: the POP3 UIDL, or "UIDVALIDITY:UID" for IMAP. Unique per account: no duplicates.
    uid = models.CharField(max_length=255)
    raw_compressed = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()

    sender = models.CharField(max_length=998, blank=True)
    to = models.TextField(blank=True)
    cc = models.TextField(blank=True)
    subject = models.CharField(max_length=998, blank=True)
    date = models.DateTimeField(null=True, blank=True)
    message_id = models.CharField(max_length=998, blank=True)
    text = models.TextField(blank=True)
    snippet = models.CharField(max_length=200, blank=True)
    has_html = models.BooleanField(default=False)
    has_attachments = models.BooleanField(default=False)
    parse_error = models.BooleanField(default=False)
    defects = models.TextField(blank=True)
    seen = models.BooleanField(default=False)
    fetched_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-fetched_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["account", "uid"], name="message_unique_uid_per_account")]
        indexes = [models.Index(fields=["account", "-fetched_at"])]

    def __str__(self):
        return self.subject or "(no subject)"

    @property
    def raw(self) -> bytes:
        return zlib.decompress(bytes(self.raw_compressed))
