"""Where a stored message is shown and how it sorts: its folder here (Box), its list time and its sort keys.

Computed once when a message is stored (the poller's insert) so that every list is one ordered index scan."""
import hashlib
import re
from email.utils import parseaddr

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

# Re:, Fwd:, AW:, [list] tags… at the start of a subject: not part of what the subject sorts and threads by.
SUBJECT_PREFIX = re.compile(r"^\s*(?:(?:re|fwd?|aw|wg|sv|vs|antw|tr|r)\s*(?:\[\d+\])?\s*:\s*|\[[^\]]{1,40}\]\s*)+",
                            re.I)
KEY_CHARS = 100


class Box(models.TextChoices):
    """The user's folders for received mail. A message of a synced IMAP folder other than INBOX stays in it
    (FOLDER: listed under Message.folder) until the user moves it."""

    INBOX = "inbox", _("Inbox")
    ARCHIVE = "archive", pgettext_lazy("folder", "Archive")
    SPAM = "spam", _("Spam")
    TRASH = "trash", _("Trash")
    FOLDER = "folder", _("Server folder")
    # Deleted for good ("Empty Trash"): the row stays, its content dropped, so that a poll of a server that
    # still has the message does not download it again (its identity is the row's).
    DELETED = "deleted", pgettext_lazy("folder", "Deleted")


def home_box(folder: str) -> str:
    """The box a message starts in, and goes back to when restored from Trash."""
    return Box.INBOX if folder in ("", "INBOX") else Box.FOLDER


def list_time(date, fetched_at):
    """The time a list sorts by: the Date header, but never later than when it arrived (a Date of 2099 must not
    pin a message to the top), and the arrival time when there is no Date."""
    return min(date, fetched_at) if date else fetched_at


def sender_parts(sender: str) -> tuple[str, str]:
    """(display name, address) of a From field; the name falls back to the address."""
    name, address = parseaddr(sender or "")
    return (name.strip() or address or (sender or "").strip()), address


def sender_key(sender: str) -> str:
    return sender_parts(sender)[0].casefold()[:KEY_CHARS]


def subject_key(subject: str) -> str:
    return SUBJECT_PREFIX.sub("", subject or "").strip().casefold()[:KEY_CHARS]


def placement(*, folder: str, date, fetched_at, sender: str, subject: str) -> dict:
    """The derived column values of a new message row."""
    return {"box": home_box(folder), "sort_at": list_time(date, fetched_at), "sender_key": sender_key(sender),
            "subject_key": subject_key(subject)}


def normalize_subject(subject: str) -> str:
    return re.sub(r"\s+", " ", SUBJECT_PREFIX.sub("", subject)).strip().lower()


def conversation_key(*, root_id: str = "", subject: str = "") -> str:
    """The conversation_id of a thread: a hash of its root's Message-ID, or (mail without any id) of its subject
    without Re:/Fwd:/[list] prefixes."""
    key = "id:" + root_id.strip() if root_id else "subject:" + normalize_subject(subject or "")
    return hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()[:32]
