"""The user's changes written back to an IMAP server: \\Seen and \\Flagged, moves between the Inbox and the
special-use folders (Archive, Junk, Trash: mailboxes/writeback.py says which), deletions for good.

Runs at the start of an IMAP account's poll (under its lease: one session on the account at a time), for the rows
the pages marked (server_pending), at most WRITEBACK_MAX a poll. Per folder: flags set and cleared; moves by UID
MOVE, the row re-keyed to its new folder and UID from COPYUID so that a sync of the target folder knows it (without
COPYUID the row is taken as no longer on the server: it stays here, and a synced target folder would download it
once more); deletions flagged \\Deleted and expunged. A folder the server refuses (gone, read-only) loses its rows'
marks with a warning: the change stays here only. A mark is cleared only if the row is still as it was written, so
a change made meanwhile is written at the next poll."""
import logging
from collections import defaultdict
from typing import NamedTuple

from django.db import IntegrityError, transaction

from mailsite.mailboxes.models import MailAccount, Message, Protocol
from mailsite.mailboxes.placement import Box
from mailsite.mailboxes.writeback import server_folder
from spooler.services.inbound.sources import incoming_session
from spooler.sessions import PermanentError

logger = logging.getLogger(__name__)

WRITEBACK_MAX = 500
FLAG_FIELDS = (("\\Seen", "seen"), ("\\Flagged", "flagged"))


class Pending(NamedTuple):
    id: int
    folder: str
    uid: str
    box: str
    seen: bool
    flagged: bool
    on_server: bool

    @property
    def server_uid(self) -> str:
        return self.uid.partition(":")[2]


def account_write_back(account: MailAccount) -> int:
    """Write this account's marked rows to its IMAP server. Returns how many rows were written (or given up)."""
    if account.incoming_protocol != Protocol.IMAP:
        return 0
    pending = [Pending(*row) for row in Message.objects.filter(account=account, server_pending=True)
               .values_list(*Pending._fields)[:WRITEBACK_MAX]]
    if not pending:
        return 0
    by_folder = defaultdict(list)
    for row in pending:
        by_folder[row.folder].append(row)
    session = incoming_session(account, "INBOX")
    session.connect()
    try:
        special = session.special_folders()
        if special != account.imap_special_folders:
            MailAccount.objects.filter(id=account.id).update(imap_special_folders=special)
            account.imap_special_folders = special
        for folder, rows in by_folder.items():
            try:
                changes = _write_folder(session, folder, rows, special)
            except PermanentError as exc:
                logger.warning("%s: could not write %d changes back to %r: %s", account, len(rows), folder, exc)
                changes = {}
            _settle(rows, changes)
    finally:
        session.close()
    return len(pending)


def _write_folder(session, folder: str, rows: list[Pending], special: dict) -> dict[int, dict]:
    """Write one folder's rows. Returns {row id: fields that change with its mark cleared}."""
    validity = str(session.select(folder))
    # Rows of an older UIDVALIDITY have no UID on the server now (the next sync re-keys them by content).
    rows = [r for r in rows if r.on_server and r.uid.partition(":")[0] == validity]
    live = [r for r in rows if r.box != Box.DELETED]
    for flag, field in FLAG_FIELDS:
        session.store_flags([r.server_uid for r in live if getattr(r, field)], flag, add=True)
        session.store_flags([r.server_uid for r in live if not getattr(r, field)], flag, add=False)
    changes = {}
    for row in rows:
        if row.box == Box.DELETED:
            session.delete(row.server_uid)
            changes[row.id] = {"on_server": False}
    moves = defaultdict(list)
    for row in live:
        target = server_folder(box=row.box, folder=folder, special=special)
        if target and target != folder:
            moves[target].append(row)
    for target, moved in moves.items():
        target_validity, new_uids = session.move([r.server_uid for r in moved], target)
        for row in moved:
            new_uid = new_uids.get(row.server_uid)
            changes[row.id] = ({"folder": target, "uid": f"{target_validity}:{new_uid}"}
                               if new_uid and target_validity else {"on_server": False})
    session.expunge()
    return changes


def _settle(rows: list[Pending], changes: dict[int, dict]) -> None:
    """Clear the marks of rows still as they were written, with what the server now says of them: one UPDATE per
    state and outcome (a moved row's new key is its own)."""
    groups = defaultdict(list)
    for row in rows:
        change = changes.get(row.id, {})
        key = (row.box, row.seen, row.flagged, row.id if "uid" in change else None, tuple(sorted(change.items())))
        groups[key].append(row.id)
    for (box, seen, flagged, _moved, change), ids in groups.items():
        fields = {"server_pending": False, **dict(change)}
        same = Message.objects.filter(id__in=ids, box=box, seen=seen, flagged=flagged)
        try:
            with transaction.atomic():
                if not same.update(**fields) and "uid" in fields:  # changed meanwhile: its new place still counts
                    Message.objects.filter(id__in=ids).update(folder=fields["folder"], uid=fields["uid"])
        except IntegrityError:  # the new key is stored already (a sync of the target ran first)
            Message.objects.filter(id__in=ids).update(server_pending=False, on_server=False)
