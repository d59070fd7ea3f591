"""IMAPSession: the classic reading API over imaplib; identity is UIDVALIDITY + UID."""

import base64
import imaplib
import re

from .base import ImplicitTLSMixin, Reader, ReplyTooLong, check_arg, network_errors, reply_text
from .errors import AuthenticationError, PermanentError, TLSError, TransientError

_FETCH_ITEM = re.compile(rb"UID (\d+)|RFC822\.SIZE (\d+)")
_LIST_LINE = re.compile(rb'^\((?P<flags>[^)]*)\) (?:"(?:[^"\\]|\\.)*"|NIL) (?P<name>.*)$')
_TEMPORARY_CODES = ("[UNAVAILABLE]", "[INUSE]", "[SERVERBUG]", "[LIMIT]")
_LITERAL_SLACK = 64 * 1024  # a server may add a little to the size it announced
# The uses a folder can be marked with (RFC 6154), and the flags this session writes back.
SPECIAL_USES = frozenset({"\\All", "\\Archive", "\\Drafts", "\\Flagged", "\\Junk", "\\Sent", "\\Trash"})
_SPECIAL_BY_LOWER = {flag.lower(): flag for flag in SPECIAL_USES}
WRITABLE_FLAGS = frozenset({"\\Seen", "\\Flagged"})


class _IMAP(ImplicitTLSMixin, imaplib.IMAP4):
    """imaplib with implicit TLS and a cap on literal sizes, both per connection."""

    def __init__(self, host, port, timeout, max_literal, implicit_tls=None, connect_to=None):
        self._connect_to = connect_to
        self.max_literal = max_literal
        self._implicit_tls = implicit_tls
        super().__init__(host, port, timeout)

    def read(self, size):
        # imaplib reads each {N} literal with read(N): refuse one we would not accept as a message.
        if size > self.max_literal:
            raise ReplyTooLong(size)
        return super().read(size)


class IMAPSession(Reader):
    """An IMAP session on one folder. BODY.PEEK[] leaves \\Seen alone; deletions are expunged at close()."""

    default_port = {"none": 143, "starttls": 143, "tls": 993}

    def __init__(self, host, port, username, password, security="tls", folder="INBOX", timeout=None,
                 ssl_context=None, cafile=None, insecure=False, max_message_bytes=None, connect_to=None):
        super().__init__(host, port, username, password, security=security, timeout=timeout,
                         ssl_context=ssl_context, cafile=cafile, insecure=insecure,
                         max_message_bytes=max_message_bytes, connect_to=connect_to)
        self.folder = check_arg("folder", folder)
        self.uidvalidity = None
        self._sizes = None
        self._deleted = []

    # --- connection --------------------------------------------------------------------------------

    def connect(self):
        if self._conn is not None:
            return self
        self._fresh()
        implicit = self.ssl_context if self.security == "tls" else None
        limit = self.max_message_bytes + _LITERAL_SLACK
        with network_errors(self.server, "connecting"):
            try:
                self._conn = _IMAP(self.host, self.port, self.timeout, limit, implicit, self.connect_to)
            except imaplib.IMAP4.error as exc:
                raise TransientError(f"bad greeting: {_text(exc)}", server=self.server) from exc
        try:
            with network_errors(self.server, "starting the session"):
                try:
                    if self.security == "starttls":
                        self._starttls()
                    self._login()
                except imaplib.IMAP4.abort as exc:
                    raise TransientError(f"connection lost while logging in: {_text(exc)}",
                                         server=self.server) from exc
            self.select(self.folder)
        except BaseException:
            self._drop()
            raise
        return self

    def _starttls(self):
        if "STARTTLS" not in self._conn.capabilities:
            raise TLSError("the server does not offer STARTTLS; not continuing in plain text", server=self.server)
        try:
            self._conn.starttls(self.ssl_context)
        except imaplib.IMAP4.error as exc:
            raise TLSError(f"STARTTLS refused: {_text(exc)}", server=self.server) from exc

    def _login(self):
        try:
            self._conn.login(_quote(self.username), self.password)
            # Servers announce more (UIDPLUS...) once logged in; imaplib would keep the first list.
            self._conn._get_capabilities()
        except imaplib.IMAP4.abort:
            raise
        except imaplib.IMAP4.error as exc:
            text = _text(exc)
            if any(code in text.upper() for code in _TEMPORARY_CODES):
                raise TransientError(f"login refused for now: {text}", server=self.server) from exc
            raise AuthenticationError(f"login refused for {self.username}: {text}", server=self.server) from exc

    def close(self):
        """Expunge what delete() flagged (only those, with UIDPLUS), then LOGOUT."""
        if self._conn is None:
            return self._closed_after_loss()
        try:
            if self._deleted:
                if "UIDPLUS" in self._conn.capabilities:
                    self._command("expunging", "uid", "EXPUNGE", ",".join(self._deleted))
                else:
                    self._command("expunging", "expunge")
            with network_errors(self.server, "logging out"):
                self._conn.logout()
        finally:
            self._drop()

    def _forget(self):
        self._sizes, self._deleted = None, []

    def _hang_up(self, conn):
        conn.shutdown()  # (imaplib's close() is the IMAP CLOSE command)

    def noop(self):
        try:
            self._command("NOOP", "noop")
            return True
        except (PermanentError, TransientError):
            return False

    def _command(self, doing, call, *args):
        """Run an imaplib call: NO/BAD become PermanentError, network trouble TransientError."""
        conn = self._need()
        try:
            with network_errors(self.server, doing):
                typ, data = getattr(conn, call)(*args)
        except imaplib.IMAP4.abort as exc:
            self._lose()
            raise TransientError(f"connection lost while {doing}: {_text(exc)}", server=self.server) from exc
        except imaplib.IMAP4.error as exc:
            raise PermanentError(f"{doing} refused: {_text(exc)}", server=self.server) from exc
        except TransientError:
            self._lose()
            raise
        if typ != "OK":
            raise PermanentError(f"{doing} refused: {_text(data[-1] if data else typ)}", server=self.server)
        return data

    # --- folders -----------------------------------------------------------------------------------

    def select(self, folder):
        """Select a folder (read-write); sets ``uidvalidity``."""
        self._command(f"selecting folder {folder!r}", "select", _quote(encode_folder(check_arg("folder", folder))))
        self.folder = folder
        self._sizes, self._deleted, self._queue = None, [], None
        self.uidvalidity = int(self._conn.untagged_responses.get("UIDVALIDITY", [b"0"])[-1])
        return self.uidvalidity

    def folders(self):
        """Names of the selectable folders, decoded from modified UTF-7."""
        return [name for name, _flags in self.folder_list()]

    def special_folders(self):
        """The folders the server marks for a use (RFC 6154): {"\\Trash": "Trash", "\\Junk": ..., ...}."""
        found = {}
        for name, flags in self.folder_list():
            for flag in flags & SPECIAL_USES:
                found.setdefault(flag, name)
        return found

    def folder_list(self):
        """[(name, {flag, ...})] of the selectable folders; flags as the server wrote them, e.g. "\\Trash"."""
        folders = []
        for item in self._command("listing folders", "list"):
            if isinstance(item, tuple):  # the name came as a {N} literal
                flags_line, name = item[0], item[1]
                match = _LIST_LINE.match(flags_line.rstrip() + b" x")
            else:
                match = _LIST_LINE.match(item or b"")
                name = match.group("name") if match else None
            if not match or b"\\noselect" in match.group("flags").lower() or name is None:
                continue
            flags = {_SPECIAL_BY_LOWER.get(f.lower(), f) for f in match.group("flags").decode("ascii", "replace").split()}
            folders.append((decode_folder(_unquote(name)), flags))
        return folders

    # --- messages ----------------------------------------------------------------------------------

    def uidl(self):
        """[(uid, size)] in UID order for the selected folder now, skipping messages deleted here."""
        sizes = {}
        self._command("checking for new mail", "noop")  # lets the server report new and expunged mail
        for item in self._command("listing messages", "uid", "FETCH", "1:*", "(UID RFC822.SIZE)"):
            uid, size = _fetch_items((item[0] if isinstance(item, tuple) else item) or b"")
            if uid is not None:
                sizes[uid] = size or 0
        self._sizes = dict(sorted(sizes.items(), key=lambda kv: int(kv[0])))
        return [(uid, size) for uid, size in self._sizes.items() if uid not in self._deleted]

    def size(self, uid):
        uid = _uid(uid)
        if self._sizes is not None and uid in self._sizes:
            return self._sizes[uid]
        for item in self._command(f"reading the size of {uid}", "uid", "FETCH", uid, "(UID RFC822.SIZE)"):
            found, size = _fetch_items(item[0] if isinstance(item, tuple) else item or b"")
            if found == uid:
                return size
        raise PermanentError(f"no message with UID {uid} in {self.folder}", server=self.server)

    def retrieve(self, uid):
        """The raw message via BODY.PEEK[] (not marked seen). MessageTooLarge before downloading a big one."""
        uid = _uid(uid)
        self._check_size(uid, self.size(uid))
        try:
            data = self._command(f"retrieving message {uid}", "uid", "FETCH", uid, "(BODY.PEEK[])")
        except ReplyTooLong as exc:
            raise self._cut_off(uid, exc) from exc
        for item in data:
            if isinstance(item, tuple) and b"BODY[]" in item[0].upper():
                return item[1]
        raise PermanentError(f"no message with UID {uid} in {self.folder}", server=self.server)

    def delete(self, uid):
        """Flag \\Deleted now; the message is expunged at close() (or expunge())."""
        uid = _uid(uid)
        self._command(f"deleting message {uid}", "uid", "STORE", uid, "+FLAGS.SILENT", r"(\Deleted)")
        self._deleted.append(uid)

    def store_flags(self, uids, flag, add=True):
        """Set (add) or clear one flag, e.g. "\\Seen", on these messages of the selected folder."""
        if not uids:
            return
        if flag not in WRITABLE_FLAGS:
            raise ValueError(f"not a flag this session writes: {flag!r}")
        for chunk in _uid_sets(uids):
            self._command(f"{'setting' if add else 'clearing'} {flag}", "uid", "STORE", chunk,
                          "+FLAGS.SILENT" if add else "-FLAGS.SILENT", f"({flag})")

    def move(self, uids, folder):
        """Move these messages of the selected folder to another (UID MOVE, RFC 6851; else COPY, then \\Deleted
        and expunged at close()). Returns (the target's UIDVALIDITY, {old uid: new uid}) as the server told
        (COPYUID, RFC 4315); (None, {}) from a server without UIDPLUS."""
        uids = [_uid(u) for u in uids]
        if not uids:
            return None, {}
        target = _quote(encode_folder(check_arg("folder", folder)))
        validity, mapping = None, {}
        for chunk in _uid_sets(uids):
            self._conn.untagged_responses.pop("COPYUID", None)
            if "MOVE" in self._conn.capabilities:
                data = self._command(f"moving messages to {folder!r}", "uid", "MOVE", chunk, target)
            else:
                data = self._command(f"copying messages to {folder!r}", "uid", "COPY", chunk, target)
                self._command("deleting the copied messages", "uid", "STORE", chunk, "+FLAGS.SILENT", r"(\Deleted)")
                self._deleted.extend(chunk.split(","))
            copied = self._conn.untagged_responses.pop("COPYUID", None) or [d for d in data if d and b"COPYUID" in d]
            for item in copied:
                found = _copyuid(item)
                if found:
                    validity = found[0]
                    mapping.update(found[1])
        return validity, mapping

    def expunge(self):
        """Expunge now what delete() and move() flagged in the selected folder (only those, with UIDPLUS)."""
        if self._deleted:
            if "UIDPLUS" in self._conn.capabilities:
                self._command("expunging", "uid", "EXPUNGE", ",".join(self._deleted))
            else:
                self._command("expunging", "expunge")
            self._deleted = []


def _uid_sets(uids, per_command=500):
    """UIDs as comma-joined sets of at most per_command (a command line stays short)."""
    uids = [_uid(u) for u in uids]
    return [",".join(uids[i:i + per_command]) for i in range(0, len(uids), per_command)]


def _copyuid(item):
    """(UIDVALIDITY, {source uid: new uid}) from a COPYUID response code's data; None if unreadable."""
    text = item.decode("ascii", "replace") if isinstance(item, bytes) else str(item)
    match = re.search(r"(?:COPYUID )?(\d+) ([\d:,]+) ([\d:,]+)", text)
    if not match:
        return None
    source, target = _expand(match.group(2)), _expand(match.group(3))
    if len(source) != len(target):
        return None
    return int(match.group(1)), dict(zip(source, target))


def _expand(uid_set):
    """"3:5,9" -> ["3", "4", "5", "9"] (a server's ranges, in its order)."""
    out = []
    for part in uid_set.split(","):
        low, _, high = part.partition(":")
        if high:
            step = 1 if int(high) >= int(low) else -1
            out.extend(str(n) for n in range(int(low), int(high) + step, step))
        else:
            out.append(low)
    return out


def _uid(uid):
    uid = str(uid)
    if not uid.isdigit() or not uid.isascii():
        raise ValueError(f"an IMAP UID is a number, not {uid!r}")
    return uid


def _fetch_items(line):
    uid = size = None
    for match in _FETCH_ITEM.finditer(line):
        if match.group(1):
            uid = match.group(1).decode()
        else:
            size = int(match.group(2))
    return uid, size


def _text(exc_or_data):
    value = exc_or_data.args[0] if isinstance(exc_or_data, Exception) and exc_or_data.args else exc_or_data
    return reply_text(value)


def _quote(name):
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _unquote(name):
    name = name.strip()
    if name.startswith(b'"') and name.endswith(b'"') and len(name) >= 2:
        name = re.sub(rb"\\(.)", rb"\1", name[1:-1])
    return name.decode("utf-8", "replace")


# --- modified UTF-7 (RFC 3501 section 5.1.3) for folder names ------------------------------------------

def encode_folder(name):
    out, pending = [], []

    def flush():
        if pending:
            data = "".join(pending).encode("utf-16-be")
            out.append("&" + base64.b64encode(data).decode().rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for ch in name:
        if " " <= ch <= "~":
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            pending.append(ch)
    flush()
    return "".join(out)


def decode_folder(name):
    def decode(match):
        chunk = match.group(1)
        if not chunk:
            return "&"
        data = chunk.replace(",", "/")
        try:
            return base64.b64decode(data + "=" * (-len(data) % 4)).decode("utf-16-be")
        except (ValueError, UnicodeDecodeError):
            return match.group(0)

    return re.sub(r"&([A-Za-z0-9+,]*)-", decode, name)
