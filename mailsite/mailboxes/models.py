"""The stored mail: mail accounts, the messages fetched into them, and their attachments.

The tables keep the names they had when these models lived in the webmail app (moved by state only)."""
import re
import zlib

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mailsite.mailboxes.encryption import EncryptedTextField
from mailsite.mailboxes.placement import Box


class Security(models.TextChoices):
    NONE = "none", _("None (plain text)")
    STARTTLS = "starttls", _("STARTTLS / STLS")
    TLS = "tls", _("Implicit TLS")


class Protocol(models.TextChoices):
    POP3 = "pop3", _("POP3")
    IMAP = "imap", _("IMAP")


# Line separators (everything str.splitlines() splits on), other C0/C1 controls, DEL: never in a header line.
_HEADER_CONTROLS = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")


# The usual ports by protocol and security (the account form's presets; an empty port means this one).
DEFAULT_PORTS = {
    "pop3": {"none": 110, "starttls": 110, "tls": 995},
    "imap": {"none": 143, "starttls": 143, "tls": 993},
    "smtp": {"none": 25, "starttls": 587, "tls": 465},
}


def default_port(*, protocol: str, security: str) -> int:
    return DEFAULT_PORTS[protocol][security]


def from_header(name: str, address: str) -> str:
    """The From field: '"Name" <address>'. The name is always quoted (so "Doe, John" is one mailbox), and a
    stored name is put on one line: line breaks and control characters become spaces (the forms refuse them,
    but a row may hold them from before). RFC 2047 for a non-ASCII name is the builder's."""
    name = " ".join(_HEADER_CONTROLS.sub(" ", name or "").split())
    if not name:
        return address
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + f'" <{address}>'


def default_imap_folders():
    return ["INBOX"]


class MailAccount(models.Model):
    """One mailbox a user reads and sends from: an incoming server and an outgoing SMTP relay."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mail_accounts")
    address = models.EmailField()
    display_name = models.CharField(max_length=200, blank=True)

    incoming_protocol = models.CharField(max_length=4, choices=Protocol.choices, default=Protocol.POP3)
    incoming_host = models.CharField(max_length=255)
    incoming_port = models.PositiveIntegerField()
    incoming_username = models.CharField(max_length=255)
    # Stored as Fernet tokens (encryption.py); the forms cap what is typed at 255 characters.
    incoming_password = EncryptedTextField()
    incoming_security = models.CharField(max_length=8, choices=Security.choices, default=Security.TLS)

    smtp_host = models.CharField(max_length=255)
    smtp_port = models.PositiveIntegerField()
    smtp_username = models.CharField(max_length=255, blank=True)
    smtp_password = EncryptedTextField(blank=True)
    smtp_security = models.CharField(max_length=8, choices=Security.choices, default=Security.STARTTLS)

    # How to poll.
    poll_interval = models.PositiveIntegerField(
        null=True, blank=True,
        help_text=_("Seconds between polls. Empty: every POLL_INTERVAL_SECONDS (the beat interval)."),
    )
    delete_after_download = models.BooleanField(
        default=False,
        help_text=_("Delete each message from the server once it is stored here. Off: leave mail on the server."),
    )
    delete_after_days = models.PositiveIntegerField(
        null=True, blank=True,
        help_text=_("Leaving mail on the server: delete it from there this many days after download."),
    )
    imap_folders = models.JSONField(
        default=default_imap_folders, blank=True, help_text=_("IMAP folders to sync (POP3 reads the inbox only).")
    )
    # What the IMAP server marks its folders for (RFC 6154), as the last write-back read them: {"\\Trash": "Trash"}.
    imap_special_folders = models.JSONField(default=dict, blank=True, editable=False)

    # Poll bookkeeping. A lease so that one poll per account runs at a time (renewed while it runs);
    # poll_queued_at keeps beat from queueing an account again while its poll is waiting in the queue.
    poll_lease_until = models.DateTimeField(null=True, blank=True)
    poll_queued_at = models.DateTimeField(null=True, blank=True)
    next_poll_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    # In plain words for the user ("Wrong user name or password ..."); the server's own text is in the detail.
    last_poll_error = models.TextField(blank=True)
    last_poll_error_detail = models.TextField(blank=True)
    # Something the user should know that is not an error (e.g. "the server cannot delete safely").
    poll_notice = models.TextField(blank=True)
    poll_failures = models.PositiveIntegerField(default=0, help_text=_("Failed polls in a row (for the backoff)."))
    last_poll_fetched = models.PositiveIntegerField(default=0)
    # Sync progress: of the messages on the server at the last listing, how many are stored here.
    sync_done = models.PositiveIntegerField(default=0)
    sync_total = models.PositiveIntegerField(default=0)

    # Put under new messages written from this account, after the "-- " line (RFC 3676 4.3).
    signature = models.TextField(blank=True, max_length=2000)

    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "webmail_mailaccount"
        ordering = ["address"]

    def __str__(self):
        return self.address

    @property
    def from_header(self) -> str:
        return from_header(self.display_name, self.address)

    @property
    def folders(self) -> list[str]:
        """The folders a poll reads: IMAP's configured ones (INBOX if none), POP3's one maildrop."""
        if self.incoming_protocol != Protocol.IMAP:
            return ["INBOX"]
        return [f for f in (self.imap_folders or []) if isinstance(f, str) and f.strip()] or ["INBOX"]

    @property
    def poll_interval_minutes(self) -> int | None:
        return (self.poll_interval + 59) // 60 if self.poll_interval else None

    @property
    def polling(self) -> bool:
        return bool(self.poll_lease_until and self.poll_lease_until > timezone.now())

    @property
    def sync_in_progress(self) -> bool:
        return self.sync_total > 0 and self.sync_done < self.sync_total


class Message(models.Model):
    """A message fetched from an account's server. The raw bytes are kept; parsed fields are for display."""

    # No index of its own: the unique (account, folder, uid) and (account, -fetched_at) indexes start with it.
    account = models.ForeignKey(MailAccount, on_delete=models.CASCADE, related_name="messages", db_index=False)
    # The account's user, kept on the row: every list is scoped to the user and is one index scan whatever the
    # number of accounts (the list indexes start with it).
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="messages",
                             db_index=False)
    # The user's folder for it here (placement.Box); moves change only this (and write back to IMAP servers).
    box = models.CharField(max_length=16, choices=Box.choices, default=Box.INBOX)
    # Where it is on the server: "INBOX" for POP3 (its one maildrop) and for IMAP's inbox, the folder name for
    # other IMAP folders, "" for messages that never were on a server (bounce notices).
    folder = models.CharField(max_length=255, blank=True, default="")
    # Server identity within the folder: the POP3 UIDL ("sha256:<hash>" on servers without UIDL), or
    # "UIDVALIDITY:UID" for IMAP. Unique per account and folder: nothing is stored twice.
    uid = models.CharField(max_length=255)
    # False once deleted from the server (by us, or found missing from a complete listing).
    on_server = models.BooleanField(default=True)
    raw_compressed = models.BinaryField()
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.PositiveIntegerField()
    # Over MAX_MESSAGE_BYTES by its announced size: not downloaded; the row tells the user it exists.
    too_large = models.BooleanField(default=False)

    sender = models.CharField(max_length=998, blank=True)
    to = models.TextField(blank=True)
    cc = models.TextField(blank=True)
    subject = models.CharField(max_length=998, blank=True)
    date = models.DateTimeField(null=True, blank=True)
    message_id = models.CharField(max_length=998, blank=True)
    in_reply_to = models.CharField(max_length=998, blank=True)
    references = models.TextField(blank=True)
    # The thread: a hash of the References root (else In-Reply-To, own Message-ID, normalized subject).
    conversation_id = models.CharField(max_length=64, blank=True)
    text = models.TextField(blank=True)
    # As sent; never put on a page as is (it would be sanitised first; the pages show text only).
    html = models.TextField(blank=True)
    snippet = models.CharField(max_length=200, blank=True)
    has_html = models.BooleanField(default=False)
    has_attachments = models.BooleanField(default=False)
    parse_error = models.BooleanField(default=False)
    defects = models.TextField(blank=True)
    seen = models.BooleanField(default=False)
    flagged = models.BooleanField(default=False, help_text=_("Starred."))
    # Read, starred or moved here and not yet written back to the IMAP server (inbound/writeback.py does it).
    server_pending = models.BooleanField(default=False)
    fetched_at = models.DateTimeField(auto_now_add=True)
    # What the lists sort by (placement.py): the Date, never later than the arrival; sender and subject keys.
    sort_at = models.DateTimeField(default=timezone.now)
    sender_key = models.CharField(max_length=100, blank=True)
    subject_key = models.CharField(max_length=100, blank=True)

    class Meta:
        db_table = "webmail_message"
        ordering = ["-fetched_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "folder", "uid"], name="message_unique_uid_per_folder")
        ]
        indexes = [
            models.Index(fields=["account", "-fetched_at"]),
            models.Index(fields=["account", "conversation_id"], name="message_conversation"),
            models.Index(fields=["user", "box", "-sort_at", "-id"], name="message_list_by_date"),
            models.Index(fields=["user", "box", "sender_key", "id"], name="message_list_by_sender"),
            models.Index(fields=["user", "box", "subject_key", "id"], name="message_list_by_subject"),
            # Only the few rows waiting for a write-back are in it.
            models.Index(fields=["account"], condition=models.Q(server_pending=True), name="message_server_pending"),
        ]

    def __str__(self):
        return self.subject or "(no subject)"

    @property
    def raw(self) -> bytes:
        data = bytes(self.raw_compressed)
        return zlib.decompress(data) if data else b""


class Attachment(models.Model):
    """One attachment of a stored message. The bytes live once per content hash in Django's storage."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    filename = models.CharField(max_length=1000, blank=True, help_text=_("As sent: never used as a path."))
    safe_filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=255)
    content_id = models.CharField(max_length=998, blank=True)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    file = models.FileField(max_length=255)

    class Meta:
        db_table = "webmail_attachment"
        ordering = ["id"]

    def __str__(self):
        return self.safe_filename


class Draft(models.Model):
    """A message being written, kept as typed: nothing validated but line breaks in header fields and sizes."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="drafts")
    account = models.ForeignKey(MailAccount, null=True, blank=True, on_delete=models.SET_NULL, related_name="drafts")
    to = models.TextField(blank=True)
    cc = models.TextField(blank=True)
    bcc = models.TextField(blank=True)
    subject = models.CharField(max_length=998, blank=True)
    text = models.TextField(blank=True)
    in_reply_to = models.CharField(max_length=998, blank=True)
    references = models.TextField(blank=True)
    # A message of the user's to forward as an attachment (message/rfc822) when the draft is sent.
    forward_attached = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["user", "-updated_at"], name="draft_list")]

    def __str__(self):
        return self.subject or "(no subject)"


class DraftAttachment(models.Model):
    """A file kept with a draft: the attachments of a message taken back from the spool (undo send)."""

    draft = models.ForeignKey(Draft, on_delete=models.CASCADE, related_name="attachments")
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=255)
    data = models.BinaryField()
    size = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.filename


class Contact(models.Model):
    """An address the user wrote to or got mail from, or added. Removing one hides it, so that it is not
    collected again from the same mail."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contacts")
    address = models.CharField(max_length=320)
    name = models.CharField(max_length=200, blank=True)
    hidden = models.BooleanField(default=False)
    # The received message it was collected from: the user's newest such id is how far collection got.
    source_message_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["address"]
        constraints = [models.UniqueConstraint(fields=["user", "address"], name="contact_unique_address")]

    def __str__(self):
        return self.address


class RemoteContentSender(models.Model):
    """A sender whose mail the user reads with remote content (images, CSS) shown: "always for this sender".
    The address is the From header's, lower-cased; From can be forged, so this trusts only what a sender could
    already make the reader fetch by asking once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="remote_content_senders")
    address = models.CharField(max_length=320)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["address"]
        constraints = [models.UniqueConstraint(fields=["user", "address"], name="remote_content_sender_unique")]

    def __str__(self):
        return self.address


class Identity(models.Model):
    """Another name and address to write from an account, with its own signature (an alias). The account's own
    name, address and signature are its default identity; the compose page offers both in its From list."""

    account = models.ForeignKey(MailAccount, on_delete=models.CASCADE, related_name="identities")
    name = models.CharField(max_length=200, blank=True)
    address = models.CharField(max_length=254)
    signature = models.TextField(blank=True, max_length=2000)

    class Meta:
        ordering = ["address", "id"]

    def __str__(self):
        return self.from_header

    @property
    def from_header(self) -> str:
        return from_header(self.name, self.address)


class ConnectionTest(models.Model):
    """One "Test connection" of account settings (maybe not saved yet), run by a worker; the page polls it.

    The passwords tried are kept only until the test has run (then cleared); rows are deleted after
    MAIL_TEST_KEEP_SECONDS. An empty password of an existing account means its stored one (never sent to the page).
    """

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="connection_tests")
    account = models.ForeignKey(MailAccount, null=True, blank=True, on_delete=models.CASCADE,
                                related_name="connection_tests")
    # The settings tried, as the form held them (host, port, security, user name per side; no password).
    settings = models.JSONField(default=dict)
    incoming_password = EncryptedTextField(blank=True)
    smtp_password = EncryptedTextField(blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    # Per side: passed or not (None: not run), and the words for the user (a translatable constant, or "").
    incoming_ok = models.BooleanField(null=True)
    incoming_result = models.CharField(max_length=300, blank=True)
    smtp_ok = models.BooleanField(null=True)
    smtp_result = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"connection test {self.id} ({self.status})"


class UserPreference(models.Model):
    """What a user chose for every page: the language (empty: the browser's) and the time zone (empty: the
    browser's, saved here on the first login that reports one)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preference")
    language = models.CharField(_("language"), max_length=10, blank=True)  # a code of LANGUAGES (checked by the form)
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)

    def __str__(self):
        return f"{self.user_id}: {self.language or '-'} {self.time_zone or '-'}"
