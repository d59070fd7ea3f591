"""What the user changes here that an IMAP server should learn too: read, starred, moved, deleted for good.

A page's write marks the rows it changed (server_pending); the poller's write-back
(spooler/services/inbound/writeback.py) writes them through its own session and clears the mark. Where each box
lives on an IMAP server is decided here: by the folders' special use (RFC 6154)."""
from mailsite.mailboxes.models import Message, Protocol
from mailsite.mailboxes.placement import Box, home_box

# The box each special-use folder of a server stands for; INBOX is the Inbox.
BOX_SPECIAL_USE = {Box.ARCHIVE: "\\Archive", Box.SPAM: "\\Junk", Box.TRASH: "\\Trash"}


def server_folder(*, box: str, folder: str, special: dict) -> str | None:
    """The server folder a row in `box` belongs in (it is in `folder` now). None: nowhere to move it (deleted for
    good, or the server has no folder of that use: the move stays here only)."""
    if box == Box.INBOX:
        return "INBOX"
    if box == Box.FOLDER:
        return folder
    use = BOX_SPECIAL_USE.get(box)
    return special.get(use) if use else None


def restore_box(*, folder: str, special: dict) -> str:
    """Where "Restore" puts a message from Trash or Spam: back in Inbox when the server holds it in a folder of
    those uses (the write-back moved it there), else where it started (placement.home_box)."""
    if folder in {special.get(use) for use in BOX_SPECIAL_USE.values()} - {None}:
        return Box.INBOX
    return home_box(folder)


def messages_mark_for_server(*, ids) -> list[int]:
    """Mark these rows (changed just now) for a write-back where they are on an IMAP server. Returns the ids of
    the accounts that have something to write (for a poll to be asked of them)."""
    rows = Message.objects.filter(id__in=list(ids), on_server=True, account__incoming_protocol=Protocol.IMAP).exclude(
        folder="")
    accounts = list(rows.values_list("account_id", flat=True).distinct())
    if accounts:
        rows.update(server_pending=True)
    return accounts
