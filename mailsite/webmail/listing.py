"""The message lists: one folder of the user's, 50 rows a page, by keyset (no OFFSET, no COUNT(*)).

A page is one ordered scan of an index that starts (user, box, sort key): see mailboxes.models.Message's indexes.
The cursor of the next page is the last row's (sort key, id); the condition on it is written as
`key <= k AND (key < k OR id < i)`, whose first half bounds the index range on both databases.
"""
import dataclasses
from datetime import datetime

from django.db.models import Q

from mailsite.mailboxes.models import MailAccount, Message
from mailsite.mailboxes.placement import Box

PAGE_SIZE = 50
# Columns a list does not show: left in the database.
LIST_DEFERRED = ("raw_compressed", "text", "html", "references", "defects")

# sort name -> (field, newest/last first?)
SORTS = {"date": ("sort_at", True), "sender": ("sender_key", False), "subject": ("subject_key", False)}
FOLDER_BOXES = (Box.INBOX, Box.ARCHIVE, Box.SPAM, Box.TRASH)


@dataclasses.dataclass
class Page:
    rows: list
    box: str
    folder: str  # the IMAP folder name when box is "folder"
    sort: str
    next_cursor: str | None  # the "Older"/"Next" link's cursor; None on the last page
    first: bool  # no cursor was given: the list's first page


def parse_cursor(cursor: str | None, sort: str):
    """(key, id) from "key|id", or None when it is missing or malformed (then the first page is shown)."""
    if not cursor or "|" not in cursor:
        return None
    key, _, id_text = cursor.rpartition("|")
    if not id_text.isdigit():
        return None
    if sort == "date":
        try:
            key = datetime.fromisoformat(key)
        except ValueError:
            return None
        if key.tzinfo is None:
            return None
    return key, int(id_text)


def make_cursor(row: Message, sort: str) -> str:
    field, _ = SORTS[sort]
    key = getattr(row, field)
    return f"{key.isoformat() if sort == 'date' else key}|{row.id}"


def box_rows(*, user, box: str, folder: str = ""):
    """The user's messages in one box (and, for box "folder", one IMAP folder)."""
    rows = Message.objects.filter(user=user, box=box)
    if box == Box.FOLDER:
        rows = rows.filter(folder=folder)
    return rows


def message_page(*, user, box: str = Box.INBOX, folder: str = "", sort: str = "date",
                 cursor: str | None = None) -> Page:
    sort = sort if sort in SORTS else "date"
    field, descending = SORTS[sort]
    rows = box_rows(user=user, box=box, folder=folder).defer(*LIST_DEFERRED)
    after = parse_cursor(cursor, sort)
    if after is not None:
        key, id_ = after
        if descending:
            rows = rows.filter(Q(**{f"{field}__lte": key}), Q(**{f"{field}__lt": key}) | Q(id__lt=id_))
        else:
            rows = rows.filter(Q(**{f"{field}__gte": key}), Q(**{f"{field}__gt": key}) | Q(id__gt=id_))
    order = (f"-{field}", "-id") if descending else (field, "id")
    found = list(rows.order_by(*order)[:PAGE_SIZE + 1])
    more = len(found) > PAGE_SIZE
    found = found[:PAGE_SIZE]
    return Page(rows=found, box=box, folder=folder, sort=sort, first=after is None,
                next_cursor=make_cursor(found[-1], sort) if more else None)


def message_latest_id(*, user) -> int:
    """The id of the user's newest stored message (0 if none): the inbox reloads its rows when it changes.

    The newest stored row of each account, one step of its (account, -fetched_at) index each: ORDER BY id over
    the user's rows sorted all of them (19 ms at 100k messages, half the inbox page). A row stored later has a
    larger id, so the largest of these changes exactly when new mail is stored."""
    accounts = MailAccount.objects.filter(user=user).order_by().values_list("id", flat=True)
    newest = [Message.objects.filter(account_id=account).order_by("-fetched_at").values_list("id", flat=True).first()
              for account in accounts]
    return max([found for found in newest if found] or [0])


def server_folders(accounts) -> list[str]:
    """The IMAP folders other than INBOX that the user's accounts sync: listed beside the user's own boxes
    (from the accounts' settings: no query over the messages)."""
    names = []
    for account in accounts:
        if account.incoming_protocol == "imap":
            names += [f for f in account.folders if f != "INBOX" and f not in names]
    return names
