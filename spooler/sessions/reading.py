"""Reading sessions for a poller: POP3 without UIDL, IMAP fetching several messages per command.

POP3 servers that do not offer UIDL (CAPA checked; RFC 1939 makes it optional) get a listing by message
numbers, valid for this session only (``content_keyed`` is then true).
"""
import re

from .base import ReplyTooLong
from .errors import MessageTooLarge, PermanentError
from .imap import IMAPSession
from .pop3 import POP3Session

_FETCH_UID = re.compile(rb"\bUID (\d+)")


class ReadingPOP3Session(POP3Session):
    """POP3Session that falls back to LIST (numbers) when the server has no UIDL. ``content_keyed`` tells."""

    content_keyed = False

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

    def retrieve_many(self, uids: list[str]) -> dict[str, bytes]:
        """{uid: raw} for those of ``uids`` the server returned (BODY.PEEK[]: not marked seen)."""
        found = {}
        if not uids:
            return found
        try:
            data = self._command(f"retrieving {len(uids)} messages", "uid", "FETCH", ",".join(uids), "(UID BODY.PEEK[])")
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


def read_ahead(session, upcoming: list[tuple[str, int]]) -> None:
    """Let the server work on the next messages while this one is stored (POP3 pipelining; no-op for IMAP)."""
    hook = getattr(session, "_prefetch", None)
    if hook is not None and upcoming:
        hook(upcoming)
