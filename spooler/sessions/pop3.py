"""POP3Session: the classic POP3 reading session over poplib, with STLS/implicit TLS and size limits."""

import collections
import poplib
import re

from .base import ImplicitTLSMixin, Reader, ReplyTooLong, network_errors, reply_text
from .errors import AuthenticationError, PermanentError, TLSError, TransientError

# RFC 2449/3206 response codes that mean "try again later" rather than "wrong password".
_TEMPORARY = re.compile(r"^-ERR \[(IN-USE|LOGIN-DELAY|SYS/TEMP)\]", re.I)


# poplib reads every line with its module-wide _MAXLINE (2,048 bytes), too short for real mail. We leave
# that global alone: messages are read in blocks (no line limit, only the message size limit), and the
# other replies (status, UIDL, LIST, CAPA) are read with this per-connection limit.
_MAX_REPLY_LINE = 64 * 1024


class _POP3(ImplicitTLSMixin, poplib.POP3):
    """poplib with a per-connection line limit, implicit TLS and block-wise RETR."""

    def __init__(self, host, port, timeout, max_line, implicit_tls=None, connect_to=None):
        self._connect_to = connect_to
        self.max_line = max_line
        self._implicit_tls = implicit_tls
        super().__init__(host, port, timeout)

    def _getline(self):
        line = self.file.readline(self.max_line + 1)
        if len(line) > self.max_line:
            raise poplib.error_proto(f"-ERR line longer than {self.max_line} bytes")
        if not line:
            raise EOFError("the server closed the connection")
        # Strip exactly one line ending (poplib also eats a leading CR).
        if line.endswith(b"\r\n"):
            return line[:-2], len(line)
        return (line[:-1] if line.endswith(b"\n") else line), len(line)

    def retr_bytes(self, number, limit):
        """RETR as exact bytes: dot-unstuffed lines joined with CRLF; stops past ``limit`` bytes."""
        self._putcmd(f"RETR {number}")
        return self.read_retr(limit)

    def read_retr(self, limit):
        """Read one multi-line RETR answer in blocks (not line by line, as poplib does).

        Only bytes up to the terminating dot are consumed (peek, then read exactly), so the reply
        to the next command stays in the buffer. Lines end in CRLF in the result, dots unstuffed.
        """
        self._getresp()
        data, searched = bytearray(b"\n"), 0  # a virtual line break, so a dot line at the very start is found
        while True:
            view = self.file.peek(_BLOCK)
            if not view:
                raise EOFError("the server closed the connection during RETR")
            start = len(data)
            data += view
            end = _END.search(data, max(0, searched - 4))
            if end:
                self.file.read(end.end() - start)  # consume through the dot line, not a byte more
                del data[end.start() + 1:]  # keep the line break that ends the last line
                break
            self.file.read(len(view))
            searched = len(data)
            if len(data) > limit + 8:
                raise ReplyTooLong(len(data))
        del data[0]
        if len(data) > limit:
            raise ReplyTooLong(len(data))
        if _BARE_LF.search(data):
            data = _BARE_LF.sub(b"\r\n", data)  # lines are rejoined with CRLF, whatever the server sent
        if data.startswith(b".."):
            del data[0]
        return bytes(data).replace(b"\r\n..", b"\r\n.")


_BLOCK = 64 * 1024
_END = re.compile(rb"\n\.\r?\n")  # the terminating dot line (after a line break)
_BARE_LF = re.compile(rb"(?<!\r)\n")


# Read-ahead while parsing: at most this many RETRs outstanding (1 unless the server offers PIPELINING),
# and at most this many bytes requested but not yet consumed.
_AHEAD_COMMANDS = 16
_AHEAD_BYTES = 1024 * 1024


class POP3Session(Reader):
    """A POP3 session. Deletions are committed by the server only at close() (QUIT)."""

    default_port = {"none": 110, "starttls": 110, "tls": 995}

    def __init__(self, host, port, username, password, security="tls", timeout=None, ssl_context=None,
                 cafile=None, insecure=False, max_message_bytes=None, connect_to=None):
        super().__init__(host, port, username, password, security=security, timeout=timeout,
                         ssl_context=ssl_context, cafile=cafile, insecure=insecure,
                         max_message_bytes=max_message_bytes, connect_to=connect_to)
        self.has_uidl = False
        self.capabilities = {}
        self._listing = None  # [(uid, size)] in server order, loaded once: a POP3 maildrop is fixed per session
        self._numbers, self._sizes = {}, {}
        self._deleted = set()
        self._inflight = collections.deque()  # uids of RETRs sent ahead, answers not read yet
        self._prefetched = {}                 # uid -> raw, read ahead and not yet returned

    # --- connection --------------------------------------------------------------------------------

    def connect(self):
        if self._conn is not None:
            return self
        self._fresh()
        implicit = self.ssl_context if self.security == "tls" else None
        with network_errors(self.server, "connecting"):
            try:
                self._conn = _POP3(self.host, self.port, self.timeout, _MAX_REPLY_LINE, implicit, self.connect_to)
            except poplib.error_proto as exc:
                raise TransientError(f"bad greeting: {reply_text(exc.args[0])}", server=self.server) from exc
        try:
            with network_errors(self.server, "starting the session"):
                self.capabilities = self._capa()
                if self.security == "starttls":
                    self._stls()
                self._login()
                self.has_uidl = "UIDL" in self.capabilities
        except BaseException:
            self._drop()
            raise
        return self

    def _capa(self):
        try:
            return self._conn.capa()
        except poplib.error_proto:
            return {}  # CAPA is optional (RFC 2449); callers fall back to trying the commands

    def _stls(self):
        if "STLS" not in self.capabilities:
            raise TLSError("the server does not offer STLS; not continuing in plain text", server=self.server)
        try:
            self._conn.stls(self.ssl_context)
        except poplib.error_proto as exc:
            raise TLSError(f"STLS refused: {reply_text(exc.args[0])}", server=self.server) from exc
        self.capabilities = self._capa()

    def _login(self):
        try:
            self._conn.user(self.username)
            self._conn.pass_(self.password)
        except poplib.error_proto as exc:
            text = reply_text(exc.args[0])
            if _TEMPORARY.match(text):
                raise TransientError(f"login refused for now: {text}", server=self.server) from exc
            raise AuthenticationError(f"login refused for {self.username}: {text}", server=self.server) from exc

    def close(self):
        """QUIT, which commits deletions. Raises TransientError when QUIT failed with deletions pending."""
        if self._conn is None:
            return self._closed_after_loss()
        pending = bool(self._deleted)
        try:
            with network_errors(self.server, "closing the session"):
                self._settle()
                self._conn.quit()
        except (poplib.error_proto, TransientError) as exc:
            if pending:
                raise TransientError(f"QUIT failed, deletions not committed: {exc}", server=self.server) from exc
        finally:
            self._drop()

    def _forget(self):
        self._listing, self._numbers, self._sizes, self._deleted = None, {}, {}, set()
        self._inflight, self._prefetched = collections.deque(), {}

    def noop(self):
        try:
            with network_errors(self.server, "NOOP"):
                self._need().noop()
            return True
        except (poplib.error_proto, TransientError):
            return False

    def _command(self, doing, call, *args):
        """Run a poplib call: -ERR becomes PermanentError, network trouble TransientError."""
        conn = self._need()
        try:
            with network_errors(self.server, doing):
                self._settle()
                return getattr(conn, call)(*args)
        except poplib.error_proto as exc:
            raise PermanentError(f"{doing} refused: {reply_text(exc.args[0])}", server=self.server) from exc
        except TransientError:
            self._lose()
            raise

    # --- messages ----------------------------------------------------------------------------------

    def uidl(self):
        """[(uid, size)] for every message not deleted in this session; size from LIST."""
        if self._listing is None:
            _resp, uid_lines, _ = self._command("listing unique ids (UIDL)", "uidl")
            _resp, size_lines, _ = self._command("listing sizes (LIST)", "list")
            sizes = {number: int(size) for number, size in _pairs(size_lines) if size.isdigit()}
            self._numbers = {uid: number for number, uid in _pairs(uid_lines)}
            self._sizes = {uid: sizes.get(number, 0) for uid, number in self._numbers.items()}
            self._listing = list(self._sizes.items())
        return [(uid, size) for uid, size in self._listing if uid not in self._deleted]

    def _number(self, uid):
        if self._listing is None:
            self.uidl()
        if uid not in self._numbers or uid in self._deleted:
            raise PermanentError(f"no message with UID {uid!r} in this session", server=self.server)
        return self._numbers[uid]

    def size(self, uid):
        """The size LIST announced for ``uid``."""
        self._number(uid)
        return self._sizes[uid]

    def retrieve(self, uid):
        """The raw message, exact bytes. MessageTooLarge (before any download) when LIST says it is too big."""
        number = self._number(uid)
        self._check_size(uid, self.size(uid))
        try:
            if uid in self._inflight:
                with network_errors(self.server, f"retrieving message {uid}"):
                    self._settle(until=uid)
            if uid in self._prefetched:
                return self._prefetched.pop(uid)
            return self._command(f"retrieving message {uid}", "retr_bytes", number, self.max_message_bytes)
        except TransientError:
            self._lose()
            raise
        except ReplyTooLong as exc:
            raise self._cut_off(uid, exc) from exc

    def prefetch(self, upcoming):
        # RETRs sent before parsing (or storing) the current message let Dovecot work meanwhile. Answers are
        # read in order by _settle(), always before any other command is sent.
        if self._conn is None:
            return
        window = _AHEAD_COMMANDS if "PIPELINING" in self.capabilities else 1
        if len(self._inflight) > window // 2:
            return  # refill in batches: one write wakes the server once for several commands
        held = sum(self._sizes[u] for u in self._inflight) + sum(map(len, self._prefetched.values()))
        batch = []
        for uid, size in upcoming:
            if len(self._inflight) + len(batch) >= window or held + size > _AHEAD_BYTES:
                break
            if uid not in self._inflight and uid not in self._prefetched:
                batch.append(uid)
                held += size
        if batch:
            try:
                with network_errors(self.server, "requesting messages ahead"):
                    self._conn.sock.sendall(b"".join(b"RETR %s\r\n" % self._numbers[uid].encode() for uid in batch))
            except TransientError:
                self._lose()  # the caller still gets the current message; the next retrieve reports the loss
                return
            self._inflight.extend(batch)

    def _settle(self, until=None):
        """Read the answers to RETRs sent ahead (all of them, or through ``until``)."""
        while self._inflight:
            uid = self._inflight.popleft()
            try:
                self._prefetched[uid] = self._conn.read_retr(self.max_message_bytes)
            except poplib.error_proto:
                pass  # refused; retrieve() will ask again and report it
            except ReplyTooLong as exc:
                raise self._cut_off(uid, exc) from exc
            if uid == until:
                return

    def delete(self, uid):
        """Mark for deletion; the server removes it at close()."""
        number = self._number(uid)
        self._command(f"deleting message {uid}", "dele", number)
        self._deleted.add(uid)
        self._prefetched.pop(uid, None)


def _pairs(lines):
    for line in lines:
        parts = line.decode("latin-1").split()
        if len(parts) >= 2:
            yield parts[0], parts[1]
