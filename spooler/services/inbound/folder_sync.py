"""One session on one folder of an account: list, delete what is stored and due for deletion, fetch what is new,
store it in batches (committed before any deletion on the server). See poll.py for the order and the identities."""
import dataclasses
import hashlib
import logging
import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from mailsite.mailboxes.models import Message
from spooler.services.inbound import errors as poll_errors
from spooler.services.inbound.sources import batch_candidates, incoming_session
from spooler.services.inbound.store import Prepared, message_prepare, messages_insert, placeholder_prepare
from spooler.sessions import AuthenticationError, MailReader, MessageTooLarge, PermanentError, SessionError

logger = logging.getLogger(__name__)

# A batch is committed when it holds this many messages or bytes, or is this old.
BATCH_MESSAGES = 100
BATCH_BYTES = 8 * 1024 * 1024
BATCH_SECONDS = 1.0
# How many upcoming messages the POP3 session may ask for ahead (it caps the bytes itself).
READ_AHEAD = 32


@dataclasses.dataclass(frozen=True)
class _Row:
    id: int
    uid: str
    sha256: str
    on_server: bool
    too_large: bool
    fetched_at: datetime
    size: int


class FolderSync:
    """One session on one folder: list, delete what is stored and due for deletion, fetch what is new."""

    def __init__(self, poll, folder: str):  # poll: the account's poll.Poll (budget, progress, lease)
        self.poll, self.folder, self.account = poll, folder, poll.account
        self.session: MailReader = incoming_session(self.account, folder)
        self.batch: list[tuple[str, Prepared]] = []  # (server uid, prepared) not yet committed
        self.batch_bytes = 0
        self.batch_started = time.monotonic()
        self.deleted_ids: list[int] = []  # rows whose deletion the server commits at close()
        self.skipped = 0  # messages that could not be read this time (tried again next poll)
        self.stopped = False  # the folder was not gone through to its end
        self.fetched: dict[str, bytes] = {}  # IMAP: messages fetched ahead in one command, not yet stored
        self.batching = self.session.fetches_many

    # -- session life cycle: close cleanly (QUIT/LOGOUT) whatever happened, then record what it committed --

    def run(self) -> None:
        self.session.connect()
        failure = None
        try:
            self.sync()
        except BaseException as exc:  # noqa: BLE001 - re-raised below, after closing the session cleanly
            failure = exc
            if isinstance(exc, SessionError) and self.batch:
                try:  # the server went away: keep what was read whole (deleted on the server next time)
                    self.flush(delete=False)
                except Exception:  # noqa: BLE001 - the poll's own error is the one to report
                    logger.warning("%s: could not store the messages read before the error", self.account, exc_info=True)
        try:
            self.session.close()  # POP3 QUIT commits DELEs; IMAP expunges what we flagged, then LOGOUT
        except SessionError as exc:
            failure = failure or exc  # deletions not committed: those rows stay on_server, deleted next poll
        else:
            if self.deleted_ids:
                Message.objects.filter(id__in=self.deleted_ids).update(on_server=False)
        if failure is not None:
            raise failure

    def sync(self) -> None:
        session, account = self.session, self.account
        listing = session.uidl()
        if session.content_keyed:
            if account.delete_after_download or account.delete_after_days:
                self.poll.notice = poll_errors.NO_UIDL
            return self.sync_by_content(listing)
        prefix = session.key_prefix
        rows = self.stored_rows()
        limit = self.poll.max_bytes
        cutoff = (timezone.now() - timedelta(days=account.delete_after_days)) if account.delete_after_days else None
        new, listed = [], set()
        for uid, size in listing:
            key = prefix + uid
            listed.add(key)
            row = rows.get(key)
            if row is None:
                new.append((uid, key, size, None))
            elif row.too_large:
                if size <= limit:  # the limit was raised since: fetch it now
                    new.append((uid, key, size, row.id))
            elif account.delete_after_download or (cutoff and row.fetched_at < cutoff):
                session.delete(uid)  # stored before (perhaps by a poll that died before QUIT): delete, store nothing
                self.deleted_ids.append(row.id)
                self.poll.checkpoint()  # keeps the lease through a long run of deletions (at most once a second)
        self.poll.total = (self.poll.total or 0) + len(listing)
        self.poll.done += len(listing) - len(new)
        self.poll.checkpoint(force=True)

        # Rows still on the server by our records but not listed: re-keyed messages (UIDVALIDITY changed),
        # or messages deleted by another client. Matched by content hash (placeholders by size), one to one.
        gone = [row for key, row in rows.items() if row.on_server and key not in listed]
        by_hash, by_size = defaultdict(list), defaultdict(list)
        for row in gone:
            (by_size[row.size] if row.too_large else by_hash[row.sha256]).append(row)

        for index, (uid, key, size, replace_id) in enumerate(new):
            if not self.poll.budget_left():
                self.stopped = True
                break
            if size > limit:
                if by_size.get(size):
                    self.rekey(by_size[size].pop(), key)
                else:
                    self.add(uid, placeholder_prepare(account=account, folder=self.folder, uid=key, size=size))
                continue
            upcoming = [(u, s) for u, _, s, _ in new[index:index + 64]] if self.batching else ()
            raw, real_size = self.retrieve(uid, upcoming)
            if raw is None:
                if real_size is not None:
                    self.add(uid, placeholder_prepare(account=account, folder=self.folder, uid=key, size=real_size))
                if self.stopped:
                    break
                continue
            if not self.batching:
                session.prefetch([(u, s) for u, _, s, _ in new[index + 1:index + 1 + READ_AHEAD] if s <= limit])
            digest = hashlib.sha256(raw).hexdigest()
            if by_hash.get(digest):
                self.rekey(by_hash[digest].pop(), key, uid=uid)
                continue
            prepared = message_prepare(account=account, folder=self.folder, uid=key, raw=raw, sha256=digest)
            prepared.replace_id = replace_id
            del raw
            self.add(uid, prepared)
        self.flush()
        if self.stopped:
            self.poll.result.more = True
        elif not self.skipped:
            leftovers = [row.id for rows_ in (*by_hash.values(), *by_size.values()) for row in rows_]
            if leftovers:  # a complete pass: what is not listed is no longer on the server
                Message.objects.filter(id__in=leftovers).update(on_server=False)

    def sync_by_content(self, listing: list[tuple[str, int]]) -> None:
        """No UIDL: every message is read and keyed by its hash; nothing is ever deleted on this server."""
        keys = {row.uid for row in self.stored_rows().values()}
        seen = Counter()
        self.poll.total = (self.poll.total or 0) + len(listing)
        for uid, size in listing:
            if not self.poll.budget_left():
                self.stopped = True
                break
            raw, real_size = (None, size) if size > self.poll.max_bytes else self.retrieve(uid)
            if raw is None and real_size is None:
                if self.stopped:
                    break
                continue
            digest = hashlib.sha256(raw).hexdigest() if raw is not None else f"large-{real_size}"
            seen[digest] += 1
            key = f"sha256:{digest}" + (f"#{seen[digest]}" if seen[digest] > 1 else "")
            if key in keys:
                self.poll.done += 1
                continue
            keys.add(key)
            if raw is None:
                prepared = placeholder_prepare(account=self.account, folder=self.folder, uid=key, size=real_size)
            else:
                prepared = message_prepare(account=self.account, folder=self.folder, uid=key, raw=raw, sha256=digest)
            self.add(uid, prepared, deletable=False)
            if self.stopped:
                break
        self.flush()
        if self.stopped:
            self.poll.result.more = True

    # -- steps ---------------------------------------------------------------------------------------------

    def stored_rows(self) -> dict[str, _Row]:
        """Every stored row of this account and folder by uid: one query, however big the listing."""
        fields = ("id", "uid", "sha256", "on_server", "too_large", "fetched_at", "size")
        query = Message.objects.filter(account=self.account, folder=self.folder).values_list(*fields)
        return {values[1]: _Row(*values) for values in query.iterator(chunk_size=5000)}

    def retrieve(self, uid: str, upcoming: list[tuple[str, int]] = ()) -> tuple[bytes | None, int | None]:
        """(bytes, None); or (None, real size) when it is over the limit after all; or (None, None) when it
        cannot be read this time (tried again next poll). ``upcoming`` (uid, size), starting with this one,
        lets IMAP fetch several small messages in one command."""
        if self.batching and uid not in self.fetched:
            batch = batch_candidates(upcoming)
            if len(batch) > 1 and batch[0] == uid:
                self.fetched = self.session.retrieve_many(batch)
        try:
            raw = self.fetched.pop(uid, None)
            if raw is None:
                raw = self.session.retrieve(uid)
        except MessageTooLarge as exc:
            # Bigger than announced: the connection may be gone (the rest of it was still coming).
            if not self.session.noop():
                self.stopped = True
            return None, exc.size or self.poll.max_bytes + 1
        except AuthenticationError:
            raise
        except PermanentError as exc:
            # e.g. removed by another client since the listing: not this poll's business, try again next time.
            logger.warning("%s: message %s of %s could not be read: %s", self.account.address, uid, self.folder, exc)
            self.skipped += 1
            return None, None
        if self.poll.test_delay:
            time.sleep(self.poll.test_delay)
        return raw, None

    def add(self, uid: str, prepared: Prepared, deletable: bool = True) -> None:
        prepared.deletable = deletable and not prepared.too_large
        if not prepared.too_large:
            self.poll.taken += 1
        self.batch.append((uid, prepared))
        self.batch_bytes += 0 if prepared.too_large else prepared.size
        if (len(self.batch) >= BATCH_MESSAGES or self.batch_bytes >= BATCH_BYTES
                or time.monotonic() - self.batch_started >= BATCH_SECONDS):
            self.flush()

    def flush(self, delete: bool = True) -> None:
        """Commit the batch; only then delete its messages on the server (delete mode)."""
        batch, self.batch, self.batch_bytes = self.batch, [], 0
        self.batch_started = time.monotonic()
        if not batch:
            return
        stored = messages_insert([prepared for _, prepared in batch])
        for (uid, prepared), inserted in zip(batch, stored):
            if inserted is not None and not prepared.too_large:
                self.poll.result.stored += 1
            if inserted is not None or prepared.too_large:
                self.poll.done += 1
            if inserted is not None and delete and prepared.deletable and self.account.delete_after_download:
                self.session.delete(uid)
                self.deleted_ids.append(inserted.id)
        self.poll.checkpoint()

    def rekey(self, row: _Row, key: str, uid: str | None = None) -> None:
        """A stored message found under a new identity: move the row to it instead of storing a copy."""
        try:
            with transaction.atomic():
                Message.objects.filter(id=row.id).update(uid=key, on_server=True)
        except IntegrityError:
            return  # a concurrent poll stored the new key meanwhile; the old row is retired at the end
        self.poll.done += 1
        if uid is not None and self.account.delete_after_download and not row.too_large:
            self.session.delete(uid)
            self.deleted_ids.append(row.id)
