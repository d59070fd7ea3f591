"""SMTPSession: send Email objects over one reusable connection, with clear transient/permanent errors."""

import dataclasses
import functools
import re
import smtplib
import socket

from . import limits
from .base import Session, check_arg, network_errors, reply_text
from .errors import (AuthenticationError, InvalidAddress, MessageTooLarge, PermanentError, TLSError, TransientError,
                     is_temporary)
from .addresses import parse_addr_spec
from .replies import every_recipient_refused, reply_error, sort_recipients

_EOL = re.compile(rb"\r\n|\r|\n")


@dataclasses.dataclass
class SendResult:
    code: int            # the server's final reply to the message data (250)
    text: str
    message_id: str | None
    accepted: list       # recipients the server took
    refused: dict        # address -> (code, text) for the ones it did not


class SMTPSession(Session):
    """An SMTP client session. send() reconnects by itself when the previous connection was lost."""

    default_port = {"none": 25, "starttls": 587, "tls": 465}

    def __init__(self, host, port, username=None, password=None, security="starttls", timeout=None,
                 ssl_context=None, cafile=None, insecure=False, local_hostname=None, max_message_bytes=None,
                 connect_timeout=None, connect_to=None):
        super().__init__(host, port, username=username, password=password, security=security, timeout=timeout,
                         ssl_context=ssl_context, cafile=cafile, insecure=insecure, connect_to=connect_to)
        # Until the server has greeted us and we are logged in; then `timeout` (see limits.CONNECT_TIMEOUT).
        self.connect_timeout = min(float(connect_timeout if connect_timeout is not None else limits.CONNECT_TIMEOUT),
                                   self.timeout)
        self.max_message_bytes = int(max_message_bytes or limits.MAX_MESSAGE_BYTES)
        # smtplib would call socket.getfqdn(), a DNS lookup that can hang; the host name is enough for EHLO.
        self.local_hostname = check_arg("local_hostname", local_hostname) or socket.gethostname() or "localhost"

    # --- connection --------------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """Whether a connection is open (as far as this side knows: the server may have closed it since)."""
        return self._conn is not None

    def connect(self):
        if self._conn is not None:
            return self
        try:
            with network_errors(self.server, "connecting", passthrough=(smtplib.SMTPResponseException,)):
                # Made without a host, then connected: smtplib would connect with the one timeout it is given.
                if self.security == "tls":
                    self._conn = smtplib.SMTP_SSL(local_hostname=self.local_hostname, timeout=self.connect_timeout,
                                                  context=self.ssl_context)
                else:
                    self._conn = smtplib.SMTP(local_hostname=self.local_hostname, timeout=self.connect_timeout)
                self._conn._host = self.host  # (what __init__ would set: the TLS server name, for SMTPS and STARTTLS)
                code, text = self._conn.connect(self.connect_to or self.host, self.port)
                if code != 220:
                    raise smtplib.SMTPConnectError(code, text)
                self._hello()
                if self.security == "starttls":
                    self._starttls()
                if self.username:
                    self._login()
                self._set_timeout(self.timeout)
        except smtplib.SMTPResponseException as exc:
            self._drop()
            raise reply_error(exc.smtp_code, reply_text(exc.smtp_error), self.server, "greeting refused") from exc
        except smtplib.SMTPException as exc:  # SMTPServerDisconnected and friends
            self._drop()
            raise TransientError(f"connection lost while connecting: {exc}", server=self.server) from exc
        except BaseException:
            self._drop()
            raise
        return self

    def _hello(self):
        code, text = self._conn.ehlo()
        if not 200 <= code < 300:
            code, text = self._conn.helo()
            if not 200 <= code < 300:
                raise reply_error(code, reply_text(text), self.server, "HELO refused")

    def _starttls(self):
        if not self._conn.has_extn("starttls"):
            raise TLSError("the server does not offer STARTTLS; not continuing in plain text", server=self.server)
        try:
            self._conn.starttls(context=self.ssl_context)
        except smtplib.SMTPResponseException as exc:
            raise TLSError(f"STARTTLS refused: {exc.smtp_code} {reply_text(exc.smtp_error)}",
                           code=exc.smtp_code, server=self.server) from exc
        self._hello()

    def _login(self):
        try:
            self._conn.login(self.username, self.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            text = reply_text(exc.smtp_error)
            if is_temporary(exc.smtp_code):
                raise TransientError(f"login failed for now: {text}", code=exc.smtp_code, server=self.server) from exc
            raise AuthenticationError(f"login refused for {self.username}: {text}",
                                      code=exc.smtp_code, server=self.server) from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise PermanentError("the server offers no AUTH here (is TLS required first?)",
                                 server=self.server) from exc
        except smtplib.SMTPException as exc:
            if isinstance(exc, smtplib.SMTPServerDisconnected):
                raise
            raise PermanentError(f"no usable login method: {exc}", server=self.server) from exc

    def close(self):
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.quit()
        except (smtplib.SMTPException, OSError):
            pass  # nothing is pending on an SMTP connection between messages
        finally:
            conn.close()

    def _set_timeout(self, seconds):
        self._conn.timeout = seconds  # (smtplib reads it for a socket it makes later: none after connect)
        self._conn.sock.settimeout(seconds)

    def noop(self):
        """True when the connection is alive (a dead one is dropped, so the next send reconnects). A relay
        that does not answer gets the connect timeout, not the command timeout."""
        if self._conn is None:
            return False
        try:
            with network_errors(self.server, "NOOP"):
                self._set_timeout(self.connect_timeout)
                ok = self._conn.noop()[0] == 250
                self._set_timeout(self.timeout)
        except (smtplib.SMTPException, TransientError):
            ok = False
        if not ok:
            self._drop()
        return ok

    # --- sending -----------------------------------------------------------------------------------

    def send(self, email):
        """Send an Email to its envelope recipients (to + cc + bcc). Returns a SendResult."""
        data = email.to_bytes()
        result = self.send_raw(email.envelope_sender(), email.envelope_recipients(), data)
        result.message_id = email.message_id
        return result

    def send_raw(self, sender, recipients, data):
        """Send bytes as they are (line endings made CRLF). Raises TransientError/PermanentError."""
        sender, recipients, data = self._check(sender, recipients, data)
        for attempt in range(limits.SMTP_RECONNECTS + 1):
            self.connect()
            try:
                self._mail_from(sender, recipients, data)
                break
            except _Reconnect:
                self._drop()  # the server dropped an idle connection before MAIL: safe to try afresh
                if attempt == limits.SMTP_RECONNECTS:
                    raise TransientError("connection lost before MAIL FROM", server=self.server) from None
        try:
            with network_errors(self.server, "sending"):
                return self._transaction(recipients, data)
        except smtplib.SMTPServerDisconnected as exc:
            self._drop()
            raise TransientError(f"connection lost while sending: {exc}", server=self.server) from exc
        except TransientError as exc:
            if exc.code is None or exc.code == 421:
                self._drop()
            raise

    def _check(self, sender, recipients, data):
        """(sender, recipients, data) as sent: addresses checked, CRLF line endings, within max_message_bytes."""
        sender = _envelope_address(sender, allow_empty=True)
        recipients = [_envelope_address(r) for r in recipients]
        if not recipients:
            raise InvalidAddress("no recipients")
        data = bytes(data)
        crlf = data.count(b"\r\n")
        if data.count(b"\n") != crlf or data.count(b"\r") != crlf:
            data = _EOL.sub(b"\r\n", data)  # only when some line does not end in CRLF (a regex costs per message)
        if len(data) > self.max_message_bytes:
            raise MessageTooLarge(f"message of {len(data)} bytes is above the maximum of {self.max_message_bytes}",
                                  size=len(data), limit=self.max_message_bytes, server=self.server)
        return sender, recipients, data

    def _mail_options(self, sender, recipients, data) -> list[str]:
        """The MAIL FROM parameters this message needs from what the server announced (SIZE, 8BITMIME, SMTPUTF8)."""
        conn = self._conn
        options = []
        if conn.has_extn("size"):
            limit = int((conn.esmtp_features.get("size") or "0").split()[0] or 0)
            if limit and len(data) > limit:
                raise MessageTooLarge(f"message of {len(data)} bytes is above the server's SIZE {limit}",
                                      code=552, size=len(data), limit=limit, server=self.server)
            options.append(f"SIZE={len(data)}")
        if not data.isascii() and conn.has_extn("8bitmime"):
            options.append("BODY=8BITMIME")
        if not (sender + "".join(recipients)).isascii():
            if not conn.has_extn("smtputf8"):
                raise PermanentError("non-ASCII addresses need SMTPUTF8, which the server does not offer",
                                     server=self.server)
            options.append("SMTPUTF8")
        return options

    def _mail_from(self, sender, recipients, data):
        conn = self._conn
        options = self._mail_options(sender, recipients, data)
        try:
            with network_errors(self.server, "MAIL FROM"):
                code, text = conn.mail(sender, options)
        except (smtplib.SMTPServerDisconnected, TransientError) as exc:
            raise _Reconnect() from exc
        if code == 421:
            raise _Reconnect()
        if code != 250:
            self._reset()
            raise reply_error(code, reply_text(text), self.server, f"sender {sender or '<>'} refused")

    def _transaction(self, recipients, data):
        conn = self._conn
        # One RCPT at a time: a 421 stops before the next recipient is offered.
        accepted, refused = [], {}
        for rcpt in recipients:
            more_accepted, more_refused = sort_recipients([rcpt], [conn.rcpt(rcpt)], self.server)
            accepted += more_accepted
            refused.update(more_refused)
        if not accepted:
            self._reset()
            raise every_recipient_refused(refused, self.server)
        try:
            code, text = conn.data(data)
        except smtplib.SMTPDataError as exc:  # the DATA command itself was refused
            self._reset()
            raise reply_error(exc.smtp_code, reply_text(exc.smtp_error), self.server, "DATA refused") from exc
        if code != 250:
            self._reset()
            raise reply_error(code, reply_text(text), self.server, "message refused")
        return SendResult(code=code, text=reply_text(text), message_id=None, accepted=accepted, refused=refused)

    def _reset(self):
        try:
            self._conn.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()


class _Reconnect(Exception):
    pass


@functools.lru_cache(maxsize=4096)  # a spool sends from few senders, and checking costs per message
def _envelope_address(addr, allow_empty=False):
    """The address as MAIL FROM / RCPT TO carry it (RFC 5321 4.1.2: a quoted local part, an address literal);
    no line break, control character or unquoted space, so nothing can be injected into the session."""
    addr = (addr or "").strip(" \t")
    if not addr and allow_empty:
        return addr  # the null reverse-path <>, for bounces
    try:
        return parse_addr_spec(addr).addr_spec
    except ValueError as exc:  # AddressError
        raise InvalidAddress(f"not an envelope address ({exc}): {addr!r}") from None
