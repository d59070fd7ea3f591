"""Reading sessions for a poller: what it may ask of one (MailReader), and the POP3 and IMAP sessions offering it.

POP3 servers that do not offer UIDL (CAPA checked; RFC 1939 makes it optional) get a listing by message
numbers, valid for this session only (``content_keyed`` is then true). IMAP fetches several small messages
with one command (``fetches_many``); POP3 sends RETRs ahead instead (``prefetch``).
"""
import re
from typing import Protocol, runtime_checkable

from .base import ReplyTooLong
from .errors import MessageTooLarge, PermanentError
from .imap import IMAPSession
from .pop3 import POP3Session

_FETCH_UID = re.compile(rb"\bUID (\d+)")


@runtime_checkable
class MailReader(Protocol):
    """What a poller may ask of a reading session, POP3 or IMAP alike: declared, so it never needs hasattr().

    A message's identity is ``key_prefix + uid`` for a uid from uidl(), unless ``content_keyed``: those uids are
    then message numbers valid for this session only, so the poller keys messages by content and deletes none.
    """

    content_keyed: bool  # read it after uidl(): that is when a POP3 server turns out to have no UIDL
    fetches_many: bool   # retrieve_many() saves round trips (IMAP); when False it returns {} (POP3: use prefetch)

    @property
    def key_prefix(self) -> str:
        """What goes before a uid in the stored identity: "" for POP3, "UIDVALIDITY:" of the folder for IMAP."""

    def connect(self) -> "MailReader":
        """Connect and log in (IMAP: and select the folder)."""

    def close(self) -> None:
        """Commit the deletions (POP3 QUIT, IMAP expunge) and log out; TransientError when they were not."""

    def noop(self) -> bool:
        """Whether the connection still works."""

    def uidl(self) -> list[tuple[str, int]]:
        """[(uid, size)] of the messages not deleted in this session, sizes as the server announced them."""

    def retrieve(self, uid: str) -> bytes:
        """One message, exact bytes; MessageTooLarge above the session's limit."""

    def retrieve_many(self, uids: list[str]) -> dict[str, bytes]:
        """{uid: raw} for those of ``uids`` fetched at once; the caller retrieves the missing ones one by one."""

    def prefetch(self, upcoming: list[tuple[str, int]]) -> None:
        """Let the server work on the messages the caller retrieves next, [(uid, size)], while it stores this one."""

    def delete(self, uid: str) -> None:
        """Mark for deletion; close() commits it."""


class ReadingPOP3Session(POP3Session):
    """POP3Session that falls back to LIST (numbers) when the server has no UIDL. ``content_keyed`` tells."""

    content_keyed = False
    fetches_many = False  # POP3 has no command for several messages: RETRs go ahead with prefetch() instead
    key_prefix = ""

    def retrieve_many(self, uids: list[str]) -> dict[str, bytes]:
        """Nothing: see fetches_many."""
        return {}

    def uidl(self):
        if not self.content_keyed and (self.has_uidl or not self.capabilities):
            try:
                return super().uidl()
            except PermanentError:
                if self.has_uidl:
                    raise  # it said it had UIDL: a refusal is a real error
                # No CAPA and no UIDL: fall through to numbers.
        self.content_keyed = True
        if self._listing is None:
            _resp, size_lines, _ = self._command("listing sizes (LIST)", "list")
            self._numbers, self._sizes = {}, {}
            for line in size_lines:
                parts = line.decode("latin-1").split()
                if len(parts) >= 2 and parts[0].isdigit():
                    self._numbers[parts[0]] = parts[0]
                    self._sizes[parts[0]] = int(parts[1]) if parts[1].isdigit() else 0
            self._listing = list(self._sizes.items())
        return [(uid, size) for uid, size in self._listing if uid not in self._deleted]


class ReadingIMAPSession(IMAPSession):
    """IMAPSession that can fetch several small messages with one UID FETCH (fewer round trips)."""

    content_keyed = False  # UIDs always identify messages (within a UIDVALIDITY)
    fetches_many = True

    @property
    def key_prefix(self) -> str:
        return f"{self.uidvalidity}:"

    def retrieve_many(self, uids: list[str]) -> dict[str, bytes]:
        """{uid: raw} for those of ``uids`` the server returned (BODY.PEEK[]: not marked seen)."""
        found = {}
        if not uids:
            return found
        try:
            data = self._command(f"retrieving {len(uids)} messages", "uid", "FETCH", ",".join(uids),
                                 "(UID BODY.PEEK[])")
        except MessageTooLarge:
            raise
        except PermanentError:
            return found  # the caller fetches them one by one, and hears about any problem then
        except ReplyTooLong as exc:  # a literal above the limit: the connection cannot be reused
            self._lose()
            raise MessageTooLarge(f"a message among UIDs {','.join(uids)} is much bigger than announced",
                                  size=exc.size, limit=self.max_message_bytes,
                                  server=self.server) from exc
        for index, item in enumerate(data):
            if not isinstance(item, tuple) or b"BODY[]" not in item[0].upper():
                continue
            match = _FETCH_UID.search(item[0])
            if match is None and index + 1 < len(data) and isinstance(data[index + 1], bytes):
                match = _FETCH_UID.search(data[index + 1])  # UID sent after the literal
            if match is not None:
                found[match.group(1).decode()] = item[1]
        return found
