"""Storage housekeeping: attachment files and outbox part bodies that nothing refers to any more are removed.

Both are stored once per content hash and shared, so deleting a message leaves them behind; beat runs
``storage_collect`` every STORAGE_COLLECT_INTERVAL_SECONDS. Why it is safe against a message stored at that moment:

- Attachment files are written before their rows (inbound/store.py: message_prepare, then messages_insert). The
  collector deletes a file only when it is older than STORAGE_COLLECT_GRACE_SECONDS (a reused file has its time
  refreshed by store_file) and no Attachment row names it, checked and deleted while it holds the files lock
  exclusively. messages_insert takes the same lock (shared) in its transaction and, holding it, checks that its
  files exist, storing any missing one again from the message's bytes before it commits. So a collector that
  runs first has its deletion repaired, and one that runs after sees the committed rows.
  The lock: on PostgreSQL an advisory lock held to the end of the transaction; on SQLite (one host) every
  transaction is IMMEDIATE, so holding any transaction excludes every other writer.
- Outbox part bodies (OutboxBlob) are deleted by one statement: older than the grace period and no OutboxPart.
  An enqueue that reuses a body refreshes its created_at with the same upsert that would insert it (a row lock
  on PostgreSQL), so a concurrent DELETE either runs first (and the upsert inserts it anew) or sees it fresh.
"""
import dataclasses
import os
import zlib
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from mailsite.mailboxes.models import Attachment
from spooler.models import OutboxBlob, OutboxPart

ATTACHMENT_DIR = "attachments"
# The advisory lock of attachment files on PostgreSQL (any constant: no other code takes advisory locks).
FILES_LOCK_KEY = zlib.crc32(b"mailsite.attachment-files")
# Files checked and deleted per transaction (storing messages waits for one such transaction at most).
COLLECT_CHUNK = 500


@dataclasses.dataclass
class Collected:
    files: int = 0
    blobs: int = 0


def attachment_files_lock(*, exclusive: bool) -> None:
    """In the caller's transaction: hold the attachment files' lock until it ends (see the module's comment)."""
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor == "postgresql":
        with db.cursor() as cursor:
            lock = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
            cursor.execute(f"SELECT {lock}(%s)", [FILES_LOCK_KEY])


def attachment_file_touch(name: str) -> None:
    """Refresh a reused file's time, so that the collector's grace period counts from its last use."""
    try:
        os.utime(default_storage.path(name))
    except (NotImplementedError, OSError):
        pass  # (a storage without local paths: the files lock alone keeps it safe)


def storage_collect(*, now: datetime | None = None) -> Collected:
    """Remove attachment files and outbox part bodies nothing refers to, older than the grace period."""
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.STORAGE_COLLECT_GRACE_SECONDS)
    return Collected(files=attachment_files_collect(cutoff=cutoff), blobs=outbox_blobs_collect(cutoff=cutoff))


def attachment_files_collect(*, cutoff: datetime) -> int:
    old = [name for name in _attachment_files() if _modified(name) < cutoff]
    removed = 0
    for start in range(0, len(old), COLLECT_CHUNK):
        chunk = old[start:start + COLLECT_CHUNK]
        with transaction.atomic():
            attachment_files_lock(exclusive=True)
            shas = {os.path.basename(name)[:64] for name in chunk}
            used = set(Attachment.objects.filter(sha256__in=shas).values_list("file", flat=True))
            for name in chunk:
                # (checked again: a message may have reused the file since the listing)
                if name not in used and _modified(name) < cutoff:
                    default_storage.delete(name)
                    removed += 1
    return removed


def outbox_blobs_collect(*, cutoff: datetime) -> int:
    """Delete part bodies no message refers to, in one statement (so its conditions are checked row by row
    under the row's lock, never from an earlier read)."""
    db = connections[DEFAULT_DB_ALIAS]
    blob, part = OutboxBlob._meta, OutboxPart._meta
    quote = db.ops.quote_name
    sql = (f"DELETE FROM {quote(blob.db_table)} WHERE {quote(blob.get_field('created_at').column)} < %s "
           f"AND NOT EXISTS (SELECT 1 FROM {quote(part.db_table)} p "
           f"WHERE p.{quote(part.get_field('blob').column)} = {quote(blob.db_table)}.{quote(blob.pk.column)})")
    with transaction.atomic(), db.cursor() as cursor:
        cursor.execute(sql, [blob.get_field("created_at").get_db_prep_value(cutoff, db)])
        return cursor.rowcount


def _attachment_files() -> list[str]:
    if not default_storage.exists(ATTACHMENT_DIR):
        return []
    dirs, files = default_storage.listdir(ATTACHMENT_DIR)
    names = [f"{ATTACHMENT_DIR}/{f}" for f in files]
    for sub in dirs:
        names += [f"{ATTACHMENT_DIR}/{sub}/{f}" for f in default_storage.listdir(f"{ATTACHMENT_DIR}/{sub}")[1]]
    return names


def _modified(name: str) -> datetime:
    try:
        return default_storage.get_modified_time(name)
    except FileNotFoundError:
        return timezone.now()  # gone meanwhile: nothing to do
