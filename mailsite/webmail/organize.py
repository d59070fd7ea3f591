"""Writes that organise the user's stored mail: move between boxes, star, mark read or unread, empty Trash.

Each takes the ids the page sent and acts only on those of the user's rows (others are ignored, never an error:
a stale page must not fail). Returns how many rows changed. Rows of IMAP accounts are marked for the poller to
write the change back to the server (mailboxes/writeback.py), and a poll of those accounts is asked for.
"""
from collections import defaultdict

from django.db import transaction

from mailsite.mailboxes.models import Attachment, Message
from mailsite.mailboxes.placement import Box
from mailsite.mailboxes.writeback import messages_mark_for_server, restore_box
from spooler.services.broker import accounts_poll_request

# What a page may ask for, and what it does to the rows.
MOVES = {"inbox": Box.INBOX, "archive": Box.ARCHIVE, "spam": Box.SPAM, "trash": Box.TRASH}
FLAGS = {"star": ("flagged", True), "unstar": ("flagged", False), "read": ("seen", True), "unread": ("seen", False)}
ACTIONS = (*MOVES, "restore", *FLAGS, "delete")
MAX_IDS = 1000  # one request acts on at most this many rows


def _own(*, user, ids):
    ids = [int(i) for i in list(ids)[:MAX_IDS] if str(i).isdigit()]
    return Message.objects.filter(user=user, id__in=ids).exclude(box=Box.DELETED)


def messages_act(*, user, ids, action: str) -> int:
    """Do one of ACTIONS to the user's messages with these ids. ValueError for an unknown action."""
    if action in MOVES:
        return messages_move(user=user, ids=ids, box=MOVES[action])
    if action == "restore":
        return messages_restore(user=user, ids=ids)
    if action in FLAGS:
        field, value = FLAGS[action]
        return _changed(_own(user=user, ids=ids).exclude(**{field: value}), **{field: value})
    if action == "delete":
        return messages_delete(user=user, ids=ids)
    raise ValueError(f"unknown action {action!r}")


def messages_move(*, user, ids, box: str) -> int:
    """Into one of the user's boxes. Moving a message of an IMAP folder to Inbox puts it in Inbox here."""
    return _changed(_own(user=user, ids=ids).exclude(box=box), box=box)


def messages_restore(*, user, ids) -> int:
    """Out of Trash (or Spam) to where it came from: Inbox, or its IMAP folder."""
    rows = _own(user=user, ids=ids).filter(box__in=(Box.TRASH, Box.SPAM))
    by_box = defaultdict(list)
    for row_id, folder, special in rows.values_list("id", "folder", "account__imap_special_folders"):
        by_box[restore_box(folder=folder, special=special or {})].append(row_id)
    return sum(_changed(Message.objects.filter(id__in=box_ids), box=box) for box, box_ids in by_box.items())


def messages_delete(*, user, ids) -> int:
    """Delete: to Trash; what is in Trash already is deleted for good."""
    rows = _own(user=user, ids=ids)
    in_trash = list(rows.filter(box=Box.TRASH).values_list("id", flat=True))
    moved = _changed(rows.exclude(box=Box.TRASH), box=Box.TRASH)
    return moved + _delete_for_good(in_trash)


def _changed(rows, **fields) -> int:
    """UPDATE these rows, then mark those of IMAP accounts for the write-back (a poll is asked for after commit)."""
    ids = list(rows.values_list("id", flat=True))
    if not ids:
        return 0
    with transaction.atomic():
        changed = Message.objects.filter(id__in=ids).update(**fields)
        _to_server(ids)
    return changed


def _to_server(ids) -> None:
    """Mark rows changed just now for the write-back to their IMAP servers; a poll of those accounts after commit."""
    accounts = messages_mark_for_server(ids=ids)
    if accounts:
        transaction.on_commit(lambda: accounts_poll_request(account_ids=accounts))


def trash_empty(*, user) -> int:
    """Delete for good everything in the user's Trash."""
    return _delete_for_good(list(Message.objects.filter(user=user, box=Box.TRASH).values_list("id", flat=True)))


def _delete_for_good(ids: list[int]) -> int:
    """The rows stay as tombstones (box "deleted", content dropped): a poll of a server that still holds the
    message knows it by its identity and does not download it again. Attachment files are shared by content
    hash between messages: their rows go, the files stay."""
    if not ids:
        return 0
    with transaction.atomic():
        Attachment.objects.filter(message_id__in=ids).delete()
        deleted = Message.objects.filter(id__in=ids).update(
            box=Box.DELETED, raw_compressed=b"", text="", html="", snippet="", has_attachments=False, flagged=False)
        _to_server(ids)  # deleted on an IMAP server too (the row, a tombstone, keeps its identity until then)
        return deleted
