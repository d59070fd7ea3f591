"""What every session shares: settings checks, error translation, and the classic reading API."""

import re
import socket
import ssl

from . import limits, tls
from .email import Email
from .errors import MessageTooLarge, NoAnswer, SessionError, TLSError, TransientError

_UNSAFE = re.compile(r"[\r\n\x00]")


def check_arg(what, value):
    """Reject values that would let a caller inject protocol commands."""
    if value is not None and _UNSAFE.search(str(value)):
        raise ValueError(f"{what} contains a line break or NUL")
    return value


def reply_text(text):
    """A server's words as text. NUL becomes U+FFFD: PostgreSQL cannot store it, and a reply the spool cannot
    record would leave its message to be sent again and again."""
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", "replace")
    return str(text).replace("\x00", "\ufffd").strip()


class network_errors:  # noqa: N801 - used as a function: `with network_errors(server, "doing"):`
    """Turn socket, TLS and EOF failures into TransientError/TLSError naming the server.

    ``passthrough`` names exception types to leave alone (smtplib's reply errors are OSErrors too). A class
    rather than a generator-based context manager: the spool enters one several times per message.
    """

    __slots__ = ("server", "doing", "passthrough")

    def __init__(self, server, doing, passthrough=()):
        self.server, self.doing, self.passthrough = server, doing, passthrough

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None or issubclass(exc_type, (SessionError, *self.passthrough)):
            return False
        error = _translated(exc, self.server, self.doing)
        if error is None:
            return False
        raise error from exc


def _translated(exc, server, doing):
    """The session error for a network failure, or None for anything else."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return TLSError(f"certificate refused while {doing}: {exc.verify_message or exc}", server=server)
    if isinstance(exc, ssl.SSLError):
        return TLSError(f"TLS failed while {doing}: {exc.reason or exc}", server=server)
    if isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError):
        # (smtplib turns a timeout while reading a reply into SMTPServerDisconnected, raised from it)
        return NoAnswer(f"no answer within the timeout while {doing}", server=server)
    if isinstance(exc, ConnectionRefusedError):
        return TransientError(f"connection refused while {doing}", server=server)
    if isinstance(exc, socket.gaierror):
        return TransientError(f"host name not resolved while {doing}: {exc}", server=server)
    if isinstance(exc, (EOFError, OSError)):
        return TransientError(f"connection lost while {doing}: {exc or type(exc).__name__}", server=server)
    return None


class ReplyTooLong(Exception):
    """A server's answer ran past the size limit mid-transfer (a POP3 RETR, an IMAP literal). Never leaves the
    library: the session drops the connection (the rest is still in flight) and raises MessageTooLarge."""

    def __init__(self, size=None):
        super().__init__(size)
        self.size = size  # bytes read, or announced, when it was cut


class ImplicitTLSMixin:
    """For poplib/imaplib subclasses: wrap the socket in TLS at connect when given a context, and connect to a
    given address instead of resolving the host name (TLS still checks the certificate against the name).

    Set self._implicit_tls (an SSLContext or None) and self._connect_to (an address or None) before calling the
    library's __init__.
    """

    _implicit_tls = None
    _connect_to = None

    def _create_socket(self, timeout):
        if self._connect_to:
            sock = socket.create_connection((self._connect_to, self.port), timeout)
        else:
            sock = super()._create_socket(timeout)
        if self._implicit_tls is not None:
            sock = self._implicit_tls.wrap_socket(sock, server_hostname=self.host)
        return sock


class Session:
    """Settings shared by the three protocols, and the context manager protocol."""

    default_port = {"none": 0, "starttls": 0, "tls": 0}

    def __init__(self, host, port, *, username=None, password=None, security="tls", timeout=None,
                 ssl_context=None, cafile=None, insecure=False, connect_to=None):
        self.host = check_arg("host", host)
        # The address to connect to, resolved and checked by the caller (so DNS cannot change between the check
        # and the connection); the certificate is still checked against ``host``. None: resolve ``host``.
        self.connect_to = check_arg("connect_to", connect_to) or None
        self.port = int(port) if port else self.default_port[tls.check_security(security)]
        self.username = check_arg("username", username)
        self.password = check_arg("password", password)
        self.security = tls.check_security(security)
        self.timeout = float(timeout if timeout is not None else limits.TIMEOUT)
        self._ssl_args = (ssl_context, cafile, insecure)
        self._ssl_context = None
        self._conn = None

    @property
    def ssl_context(self):
        # Made on first use: loading the system CA store takes tens of milliseconds, which a plain-text
        # session never needs to spend.
        if self._ssl_context is None:
            self._ssl_context = tls.make_context(*self._ssl_args)
        return self._ssl_context

    @property
    def server(self):
        return f"{self.host}:{self.port}"

    def __repr__(self):
        return f"<{type(self).__name__} {self.username or ''}@{self.server} security={self.security}>"

    def _drop(self):
        """Forget the connection without a goodbye (it is broken, or its state unknown): close the socket,
        clear what belonged to that connection. Never raises."""
        conn, self._conn = self._conn, None
        self._forget()
        if conn is not None:
            try:
                self._hang_up(conn)
            except OSError:
                pass

    def _forget(self):
        """Hook: clear the state that belongs to one connection (listings, deletions, replies sent ahead)."""

    def _hang_up(self, conn):
        """Hook: close the library object's socket (smtplib and poplib: close(); imaplib says shutdown())."""
        conn.close()

    def __enter__(self):
        self.connect()
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            self.close()
        except SessionError:
            if exc_type is None:
                raise  # a failed close (e.g. POP3 QUIT not committing) matters only when nothing else failed


class Reader(Session):
    """The classic reading API over uidl() and retrieve(): read_first/read_next/out, iteration, get_all.

    Messages above max_message_bytes are skipped by these calls and listed in ``skipped`` as (uid, size).
    """

    def __init__(self, host, port, username, password, *, max_message_bytes=None, **kwargs):
        super().__init__(host, port, username=username, password=password, **kwargs)
        self.max_message_bytes = int(max_message_bytes or limits.MAX_MESSAGE_BYTES)
        self.out = False
        self.skipped = []
        self._queue, self._pos = None, 0
        self._deleted = ()
        self._lost = self._uncommitted = False

    # --- connection state shared by POP3 and IMAP ----------------------------------------------------

    def _need(self):
        """The live connection. Connects lazily, but never silently replaces one that was lost:
        the caller must learn that uncommitted deletions are gone."""
        if self._conn is None:
            if self._lost:
                raise TransientError("the connection was lost earlier in this session; connect() again",
                                     server=self.server)
            self.connect()
        return self._conn

    def _lose(self):
        """Forget a broken connection; close() then reports deletions that were not committed."""
        self._uncommitted = self._uncommitted or bool(self._deleted)
        self._lost = True
        self._drop()

    def _fresh(self):
        """Called by connect(): a new connection starts with a clean slate."""
        self._lost = self._uncommitted = False

    def _closed_after_loss(self):
        """close() on a lost connection: raise if deletions were pending when it was lost."""
        uncommitted, self._lost, self._uncommitted = self._uncommitted, False, False
        if uncommitted:
            raise TransientError("the connection was lost before the deletions were committed", server=self.server)

    def read_first(self):
        """The first message, or None (and ``out`` true) when there is none."""
        self._queue, self._pos, self.out = self.uidl(), 0, False
        return self.read_next()

    def read_next(self):
        """The next message, or None with ``out`` set once past the last one."""
        if self._queue is None:
            return self.read_first()
        while self._pos < len(self._queue):
            uid, size = self._queue[self._pos]
            self._pos += 1
            if size > self.max_message_bytes:
                self.skipped.append((uid, size))
                continue
            raw = self.retrieve(uid)
            self.prefetch(self._upcoming())  # the server works on the next ones while we parse this one
            message = Email.parse(raw)
            message.uid, message.size = uid, size
            return message
        self.out = True
        return None

    def _upcoming(self, count=32):
        """[(uid, size)] that read_next() will retrieve next."""
        ahead = self._queue[self._pos:self._pos + count]
        return [(uid, size) for uid, size in ahead if size <= self.max_message_bytes]

    def prefetch(self, upcoming):
        """Ask the server for some of ``upcoming`` [(uid, size)] now; retrieve() collects the answers.
        Nothing here (IMAP); POP3 sends RETRs ahead."""

    def __iter__(self):
        message = self.read_first()
        while message is not None:
            yield message
            message = self.read_next()

    def get_all(self):
        return list(self)

    def _cut_off(self, uid, exc):
        """The MessageTooLarge for message ``uid`` cut off mid-transfer (ReplyTooLong ``exc``). The rest of it
        is still in flight, so the connection is lost: it cannot be reused."""
        self._lose()
        return MessageTooLarge(f"message {uid} is larger than announced and above {self.max_message_bytes} bytes",
                               size=exc.size, limit=self.max_message_bytes, server=self.server)

    def _check_size(self, uid, size):
        if size is not None and size > self.max_message_bytes:
            raise MessageTooLarge(f"message {uid} has {size} bytes, above the maximum of {self.max_message_bytes}",
                                  size=size, limit=self.max_message_bytes, server=self.server)
