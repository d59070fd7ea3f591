"""Fetched bytes → Message and Attachment rows: parse (never raises), thread, attachments stored once by hash.

Used by the poller in batches (one transaction per batch, committed before any deletion on the server) and,
one message at a time, by ``message_store`` (bounce notices, tests).
"""
import dataclasses
import hashlib
import logging
import re
import zlib

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction

from mailsite.mailboxes.display import invisible_strip
from mailsite.mailboxes.models import Attachment, MailAccount, Message
from mailsite.mailboxes.placement import conversation_key
from spooler.services.html import HtmlTooComplex, html_to_text
from spooler.services.storage import ATTACHMENT_DIR, attachment_file_touch, attachment_files_lock
from spooler.services.sql.messages import insert_messages, message_row
from spooler.sessions import Email

logger = logging.getLogger(__name__)

SNIPPET_CHARS = 140
HTML_TOO_COMPLEX_NOTE = ("This message is HTML too complex to show safely ({reason}), and it has no plain-text "
                         "part. The original message is kept as it was received.")
# zlib level for the kept raw bytes: level 1, and for small messages a small window and little memory, so that
# setting up the compressor (which dominated for a 1 KB message: ~50 µs of 60) costs next to nothing.
RAW_COMPRESSION_LEVEL = 1
SMALL_MESSAGE = 8 * 1024
_MSG_ID = re.compile(r"<[^<>\s]+>")


@dataclasses.dataclass
class Prepared:
    """A message ready to insert: its column values and its attachments (rows need the message id)."""

    fields: dict  # Message field name -> value (account as account_id)
    attachments: list = dataclasses.field(default_factory=list)  # unsaved Attachment rows, files already stored
    replace_id: int | None = None  # a not-downloaded placeholder this message replaces
    deletable: bool = True  # may be deleted on the server once committed (delete mode)
    id: int | None = None  # set once inserted

    @property
    def too_large(self) -> bool:
        return self.fields["too_large"]

    @property
    def size(self) -> int:
        return self.fields["size"]

    def message(self) -> Message:
        """The stored row as a model instance (after the insert)."""
        message = Message(id=self.id, **self.fields)
        message._state.adding, message._state.db = False, "default"
        return message


def store_file(name: str, data: bytes) -> str:
    """Write ``data`` under ``name`` unless it is there (the name is its hash; a reused file's time is refreshed
    for the collector's grace period). Two processes at once: the second gets a suffixed name from the storage;
    still correct, the file is stored twice."""
    if default_storage.exists(name):
        attachment_file_touch(name)
        return name
    return default_storage.save(name, ContentFile(data))


def message_prepare(*, account: MailAccount, folder: str, uid: str, raw: bytes, sha256: str | None = None,
                    on_server: bool = True) -> Prepared:
    """Parse ``raw`` into a row to insert. Attachment bytes are written to storage now (idempotent): a row is
    never committed before its attachments' files exist."""
    parsed = Email.parse(raw)
    text, markup, defects = message_texts(parsed)
    fields = message_row(
        account_id=account.id,
        user_id=account.user_id,
        folder=folder,
        uid=uid,
        on_server=on_server,
        raw_compressed=compress(raw),
        sha256=sha256 or hashlib.sha256(raw).hexdigest(),
        size=len(raw),
        # (the fields pages show: no direction overrides; mailsite/mailboxes/display.py)
        sender=_short(invisible_strip(parsed.sender)),
        to=_text(invisible_strip(", ".join(parsed.to or []))),
        cc=_text(invisible_strip(", ".join(parsed.cc or []))),
        subject=_short(invisible_strip(parsed.subject)),
        date=parsed.date,
        message_id=_short(_first_id(parsed.message_id) or parsed.message_id),
        in_reply_to=_short(parsed.in_reply_to),
        references=_text(" ".join(parsed.references or [])),
        conversation_id=conversation_id(parsed),
        text=_text(text),
        html=_text(markup),
        snippet=_text(snippet(text)),
        has_html=bool(parsed.html),
        has_attachments=bool(parsed.attachments),
        parse_error=bool(defects),
        defects=_text("\n".join(defects)),
    )
    attachments = [attachment_prepare(part) for part in parsed.attachments]
    return Prepared(fields=fields, attachments=attachments)


def message_texts(parsed: Email) -> tuple[str, str, list[str]]:
    """The text to show, the HTML to keep for display and the defects. An HTML-only message is shown as the text
    of its HTML; HTML over a cap of spooler.services.html (or, beside a text part, over HTML_MAX_BYTES: the webmail checks
    the rest when it shows it) is not kept, and the message is flagged. Its raw bytes are kept either way."""
    text, markup, defects = parsed.text or "", parsed.html or "", list(parsed.defects or [])
    try:
        if not text.strip() and markup:
            text = html_to_text(markup)
        elif len(markup) > settings.HTML_MAX_BYTES:
            raise HtmlTooComplex(f"larger than {settings.HTML_MAX_BYTES} bytes")
    except HtmlTooComplex as exc:
        defects.append(f"HTML not shown: {exc.reason}; the original message is kept")
        markup = ""
        if not text.strip():
            text = HTML_TOO_COMPLEX_NOTE.format(reason=exc.reason)
    return text, markup, defects


def placeholder_prepare(*, account: MailAccount, folder: str, uid: str, size: int) -> Prepared:
    """A row for a message left on the server because it is over MAX_MESSAGE_BYTES: the user sees it exists."""
    fields = message_row(
        account_id=account.id, user_id=account.user_id, folder=folder, uid=uid, raw_compressed=b"", sha256="", size=size, too_large=True,
        subject=f"(message of {human_size(size)} not downloaded: over the limit)",
        snippet="It is left on the mail server; read it there.",
    )
    return Prepared(fields=fields)


def attachment_prepare(part) -> Attachment:
    """Store the part's bytes once per SHA-256 through Django's storage; return the unsaved row."""
    data = part.data or b""
    digest = hashlib.sha256(data).hexdigest()
    name = store_file(attachment_name(digest), data)
    return Attachment(
        filename=_text(part.filename or "")[:1000],
        safe_filename=_text(part.safe_filename)[:255],
        content_type=_text(part.content_type or "application/octet-stream")[:255].lower(),
        content_id=_short(part.content_id),
        size=len(data),
        sha256=digest,
        file=name,
    )


def attachment_name(digest: str) -> str:
    return f"{ATTACHMENT_DIR}/{digest[:2]}/{digest}"  # one level of 256 directories: creating them is costly


def message_store(*, account: MailAccount, uid: str, raw: bytes, folder: str = "") -> Message | None:
    """Parse and store one message that is on no server (a bounce notice). Never raises on bad mail.

    None if (account, folder, uid) is stored already. Committed when it returns (unless called inside the
    caller's own transaction).
    """
    prepared = message_prepare(account=account, folder=folder, uid=uid, raw=raw, on_server=False)
    stored = messages_insert([prepared])[0]
    return stored.message() if stored is not None else None


def messages_insert(batch: list[Prepared]) -> list[Prepared | None]:
    """Insert a batch in one transaction and commit it. A message whose (account, folder, uid) is stored
    already is skipped (None in the result, same order): identity is unique, nothing is stored twice."""
    if not batch:
        return []
    try:
        with transaction.atomic():
            _insert(batch)
        return list(batch)
    except IntegrityError:
        pass  # someone stored one of them meanwhile: one by one, so the others still go in
    results = []
    for prepared in batch:
        try:
            with transaction.atomic():
                _insert([prepared])
            results.append(prepared)
        except IntegrityError:
            prepared.id = None
            results.append(None)
    return results


def _insert(batch: list[Prepared]) -> None:
    replaced = [p.replace_id for p in batch if p.replace_id]
    if replaced:
        Message.objects.filter(id__in=replaced, too_large=True).delete()
    ids = insert_messages([prepared.fields for prepared in batch])
    attachments = []
    for prepared, message_id in zip(batch, ids):
        prepared.id = message_id
        for attachment in prepared.attachments:
            attachment.message_id = message_id
            attachments.append(attachment)
    if attachments:
        _files_present(batch)
        Attachment.objects.bulk_create(attachments)


def _files_present(batch: list[Prepared]) -> None:
    """In the insert's transaction, under the files lock: every attachment file exists. One the collector removed
    after message_prepare wrote (or reused) it is stored again from the message's bytes (spooler/services/storage.py)."""
    attachment_files_lock(exclusive=False)
    for prepared in batch:
        if all(default_storage.exists(a.file.name) for a in prepared.attachments):
            continue
        parts = Email.parse(zlib.decompress(prepared.fields["raw_compressed"])).attachments
        for attachment, part in zip(prepared.attachments, parts):
            if not default_storage.exists(attachment.file.name):
                attachment.file = store_file(attachment_name(attachment.sha256), part.data or b"")


def compress(raw: bytes) -> bytes:
    """A zlib stream (zlib.decompress reads it whatever the window size) of the raw message."""
    if len(raw) <= SMALL_MESSAGE:
        compressor = zlib.compressobj(RAW_COMPRESSION_LEVEL, zlib.DEFLATED, 13, 4)
    else:
        compressor = zlib.compressobj(RAW_COMPRESSION_LEVEL, zlib.DEFLATED, 15, 9)
    return compressor.compress(raw) + compressor.flush()


# --- derived fields -------------------------------------------------------------------------------------

def conversation_id(parsed: Email) -> str:
    """The thread a message belongs to, as a hash.

    The first Message-ID in References is the thread's root (RFC 5322 3.6.4), so every reply that carries
    References lands in the root's conversation without the root or the parent having to be stored.
    Clients that send only In-Reply-To are threaded under the parent; a message with neither starts a
    conversation under its own Message-ID (which its replies name as their root). Mail without any id is
    grouped by its subject with Re:/Fwd:/[list] prefixes removed.
    """
    references = [ref for ref in (parsed.references or []) if ref]
    root = references[0] if references else parsed.in_reply_to or _first_id(parsed.message_id)
    return conversation_key(root_id=root or "", subject=parsed.subject or "")


def snippet(text: str) -> str:
    return re.sub(r"\s+", " ", text[: SNIPPET_CHARS * 20]).strip()[:SNIPPET_CHARS]


def human_size(size: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.0f} {unit}" if size >= 10 * scale else f"{size / scale:.1f} {unit}"
    return f"{size} bytes"


def _first_id(value: str | None) -> str | None:
    if not value:
        return None
    match = _MSG_ID.search(value)
    return match.group(0) if match else value.strip() or None


def _text(value: str | None) -> str:
    """A string every database takes: no NUL (PostgreSQL refuses it), no lone surrogates."""
    if not value:
        return ""
    if "\x00" in value:
        value = value.replace("\x00", "\ufffd")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            value = value.encode("utf-8", "replace").decode("utf-8")
    return value


def _short(value: str | None, limit: int = 998) -> str:
    return _text(value)[:limit]
