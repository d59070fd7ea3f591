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


class _IMAP(ImplicitTLSMixin, imaplib.IMAP4):
    """imaplib with implicit TLS and a cap on literal sizes, both per connection."""

    def __init__(self, host, port, timeout, max_literal, implicit_tls=None):
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
                 ssl_context=None, cafile=None, insecure=False, max_message_bytes=None):
        super().__init__(host, port, username, password, security=security, timeout=timeout,
                         ssl_context=ssl_context, cafile=cafile, insecure=insecure,
                         max_message_bytes=max_message_bytes)
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
                self._conn = _IMAP(self.host, self.port, self.timeout, limit, implicit)
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
        names = []
        for item in self._command("listing folders", "list"):
            if isinstance(item, tuple):  # the name came as a {N} literal
                flags_line, name = item[0], item[1]
                match = _LIST_LINE.match(flags_line.rstrip() + b" x")
            else:
                match = _LIST_LINE.match(item or b"")
                name = match.group("name") if match else None
            if not match or b"\\noselect" in match.group("flags").lower() or name is None:
                continue
            names.append(decode_folder(_unquote(name)))
        return names

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
        """Flag \\Deleted now; the message is expunged at close()."""
        uid = _uid(uid)
        self._command(f"deleting message {uid}", "uid", "STORE", uid, "+FLAGS.SILENT", r"(\Deleted)")
        self._deleted.append(uid)


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
