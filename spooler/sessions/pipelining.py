"""SMTP PIPELINING (RFC 2920): MAIL, every RCPT and DATA go out in one write.

A message then costs two round trips (envelope + DATA, then the content) instead of 3 + recipients, which
is what lets the spool outrun one plain smtplib connection (Postfix's smtp client pipelines the same way).
It builds on SMTPSession: the same connection, TLS, login, reconnect-when-idle and the same errors
(TransientError / PermanentError and their subclasses, a SendResult on success). Servers that do not
announce PIPELINING get SMTPSession.send_raw.
"""
import re

from .base import network_errors, reply_text
from .errors import InvalidAddress, MessageTooLarge, TransientError
from .smtp import SendResult, SMTPSession, _all_refused, _by_code, _envelope_address, _sort_recipients

_EOL = re.compile(rb"\r\n|\r|\n")
_DOT = re.compile(rb"(?m)^\.")


class PipeliningSession(SMTPSession):
    def send_raw(self, sender, recipients, data, while_waiting=None):
        """Like SMTPSession.send_raw. `while_waiting` (optional) is called once, after the envelope went out and
        before its replies are read, to do local work (the spool writes the previous message's receipt there)
        in the time the server takes to answer; if it raises, the connection is dropped and nothing is sent."""
        sender = _envelope_address(sender, allow_empty=True)
        recipients = [_envelope_address(r) for r in recipients]
        if not recipients:
            raise InvalidAddress("no recipients")
        data = bytes(data)
        if data.count(b"\n") != data.count(b"\r\n") or data.count(b"\r") != data.count(b"\r\n"):
            data = _EOL.sub(b"\r\n", data)  # only when some line does not end in CRLF (a regex costs per message)
        if len(data) > self.max_message_bytes:
            raise MessageTooLarge(f"message of {len(data)} bytes is above the maximum of {self.max_message_bytes}",
                                  size=len(data), limit=self.max_message_bytes, server=self.server)
        self.connect()
        if not self._conn.has_extn("pipelining"):
            if while_waiting:
                while_waiting()
            return super().send_raw(sender, recipients, data)
        for attempt in range(2):
            try:
                return self._pipelined(sender, recipients, data, while_waiting if not attempt else None)
            except _Stale as stale:
                # The server had dropped the idle connection (or said 421) before MAIL: nothing was sent; once more.
                self._drop()
                if attempt:
                    if stale.reply:
                        raise _by_code(stale.reply[0], reply_text(stale.reply[1]), self.server,
                                       "server closing") from None
                    raise TransientError("connection lost before MAIL FROM", server=self.server) from None
                self.connect()
        raise AssertionError("unreachable")

    def _options(self, sender, recipients, data) -> str:
        return "".join(" " + o for o in self._mail_options(sender, recipients, data))

    def _pipelined(self, sender, recipients, data, while_waiting):
        conn = self._conn
        envelope = f"MAIL FROM:<{sender}>{self._options(sender, recipients, data)}\r\n"
        envelope += "".join(f"RCPT TO:<{r}>\r\n" for r in recipients) + "DATA\r\n"
        try:
            with network_errors(self.server, "MAIL FROM"):
                conn.send(envelope.encode("utf-8"))
                if while_waiting:
                    try:
                        while_waiting()
                    except BaseException:
                        self._drop()  # mid-transaction: this connection cannot be used any more
                        raise
                code, text = conn.getreply()
        except (TransientError, OSError) as exc:
            raise _Stale() from exc
        if code == 421:
            raise _Stale((code, text))
        try:
            with network_errors(self.server, "sending"):
                return self._after_mail(code, text, sender, recipients, data)
        except TransientError as exc:
            if exc.code is None or exc.code == 421:
                self._drop()
            raise

    def _after_mail(self, mail_code, mail_text, sender, recipients, data):
        conn = self._conn
        replies = [conn.getreply() for _ in recipients]
        data_code, data_text = conn.getreply()
        if mail_code != 250:
            self._reset_after_data(data_code)
            raise _by_code(mail_code, reply_text(mail_text), self.server, f"sender {sender or '<>'} refused")
        accepted, refused = _sort_recipients(recipients, replies, self.server)
        if not accepted:
            self._reset_after_data(data_code)
            raise _all_refused(refused, self.server)
        if data_code != 354:
            self._reset_after_data(data_code)
            raise _by_code(data_code, reply_text(data_text), self.server, "DATA refused")
        body = _DOT.sub(b"..", data) if data.startswith(b".") or b"\n." in data else data
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        conn.send(body + b".\r\n")
        code, text = conn.getreply()
        if code != 250:
            self._reset()
            raise _by_code(code, reply_text(text), self.server, "message refused")
        return SendResult(code=code, text=reply_text(text), message_id=None, accepted=accepted, refused=refused)

    def _reset_after_data(self, data_code):
        if data_code == 354:
            # DATA was accepted although the transaction failed: end it with an empty message, then RSET.
            self._conn.send(b".\r\n")
            self._conn.getreply()
        self._reset()


class _Stale(Exception):
    def __init__(self, reply=None):
        super().__init__()
        self.reply = reply
