"""Receipts: "the relay said 250 to row R of batch T", kept before the next message's content goes out.

A batch's outcomes are written in bulk once it is done; if its worker dies before that, the sweeper reads the
receipts and records those rows as sent instead of sending them again. So the only duplicate a killed worker
can cause is the RFC 1047 one: the relay said 250 and the worker died before the receipt was kept.

Where receipts are kept depends on the database:
- SQLite (one host by nature): a file per batch beside the database, `<database>.receipts/<token>`, a line per
  row. One write() the kernel keeps when the process is killed, and no database lock: an INSERT per message
  from every worker process made them queue for SQLite's one write lock (a quarter of the spool's throughput).
- Otherwise (PostgreSQL, workers on several hosts): an OutboxReceipt row per message, autocommit.
"""
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

from django.db import DEFAULT_DB_ALIAS, connections

from spooler.models import OutboxReceipt
from spooler.services.sql import rows as bulk_rows
from spooler.services.sql.values import in_chunks


def receipt_dir() -> Path | None:
    """The directory of the file receipts, or None when receipts are rows (not SQLite, or in memory)."""
    db = connections[DEFAULT_DB_ALIAS]
    name = str(db.settings_dict.get("NAME") or "")
    if db.vendor != "sqlite" or not name or name == ":memory:" or "mode=memory" in name:
        return None
    return Path(name).with_name(Path(name).name + ".receipts")


class FileReceipts:
    def __init__(self, directory: Path, token: uuid.UUID):
        self.path = directory / token.hex
        self._fd = None

    def write(self, row_id: int, at: datetime) -> None:
        if self._fd is None:
            self.path.parent.mkdir(mode=0o700, exist_ok=True)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.write(self._fd, b"%d %r\n" % (row_id, at.timestamp()))

    def drop_with_outcomes(self) -> None:
        """Nothing: a file cannot join the transaction that records the batch; discard() removes it after."""

    def discard(self) -> None:
        """The batch is recorded (committed): its receipts are no longer needed."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        self.path.unlink(missing_ok=True)


class TableReceipts:
    def __init__(self, token: uuid.UUID):
        self.token = token

    def write(self, row_id: int, at: datetime) -> None:
        bulk_rows.insert_now(OutboxReceipt, SimpleNamespace(message_id=row_id, claim_token=self.token, at=at),
                              ["message", "claim_token", "at"])

    def drop_with_outcomes(self) -> None:
        """Inside the transaction that records the batch's outcomes: the receipts go with it, or not at all."""
        OutboxReceipt.objects.filter(claim_token=self.token).delete()

    def discard(self) -> None:
        """Nothing left: drop_with_outcomes() deleted the rows with the batch's outcomes."""


def batch_receipts(token: uuid.UUID) -> FileReceipts | TableReceipts:
    directory = receipt_dir()
    return FileReceipts(directory, token) if directory else TableReceipts(token)


def receipt_pages(page_size: int) -> Iterator[list[tuple[uuid.UUID, int, datetime]]]:
    """Every receipt kept (token, row id, time), from rows and from files, a page of at most `page_size` at a
    time until none is left: the sweeper's view. Rows are read by id (keyset), so receipts written meanwhile
    are read too, never skipped."""
    last = 0
    while page := list(OutboxReceipt.objects.filter(id__gt=last).order_by("id")
                       .values_list("id", "claim_token", "message_id", "at")[:page_size]):
        last = page[-1][0]
        yield [(token, row_id, at) for _id, token, row_id, at in page]
    directory = receipt_dir()
    chunk = []
    for path in sorted(directory.iterdir()) if directory and directory.is_dir() else []:
        try:
            token = uuid.UUID(hex=path.name)
            lines = path.read_text("ascii", "replace").split("\n")[:-1]  # (a line without its end was cut short)
        except (ValueError, OSError):
            continue  # not ours, or gone meanwhile
        for line in lines:
            row_id, _, at = line.partition(" ")
            try:
                chunk.append((token, int(row_id), datetime.fromtimestamp(float(at), UTC)))
            except ValueError:
                continue
            if len(chunk) >= page_size:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


def kept_receipts() -> list[tuple[uuid.UUID, int, datetime]]:
    """Every receipt kept, in one list (tests, the admin's view)."""
    return [receipt for page in receipt_pages(1000) for receipt in page]


def drop_receipts(tokens) -> None:
    """Forget the receipts of these batches (recovered, or recorded by a worker that died before it could
    delete them)."""
    tokens = list(set(tokens))
    for chunk in in_chunks(tokens):
        OutboxReceipt.objects.filter(claim_token__in=chunk).delete()
    directory = receipt_dir()
    if directory:
        for token in tokens:
            (directory / token.hex).unlink(missing_ok=True)
