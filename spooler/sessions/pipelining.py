"""SMTP PIPELINING (RFC 2920): MAIL, every RCPT and DATA go out in one write.

A message then costs two round trips (envelope + DATA, then the content) instead of 3 + recipients.
With ``then=`` (the message the caller sends next) it costs one: the next envelope goes out in the same write
as this content (RFC 2920 §3.1 lets the content be the first "command" of a group), and the next send_raw
reads its replies. That is what lets the spool outrun one plain smtplib connection.

It builds on SMTPSession: the same connection, TLS, login, reconnect-when-idle and the same errors
(TransientError / PermanentError and their subclasses, a SendResult on success). Servers that do not announce
PIPELINING get SMTPSession.send_raw.
"""
import re

from .base import network_errors, reply_text
from .errors import SessionError, TransientError
from .replies import every_recipient_refused, reply_error, sort_recipients
from .smtp import SendResult, SMTPSession

_DOT = re.compile(rb"(?m)^\.")


class PipeliningSession(SMTPSession):
    # The envelope (bytes) sent after the last content for the message the caller said comes next; its replies
    # are still unread. While it is set the server sits after that DATA's 354: anything sent becomes content.
    _ahead = None
    # The last message checked and its envelope: with `then=` each message is asked for twice (as the next one,
    # then as itself), and checking it is a good part of what a message costs here.
    _last_checked = None
    _last_envelope = None

    def send_raw(self, sender, recipients, data, while_waiting=None, then=None):
        """Like SMTPSession.send_raw. `while_waiting` (optional) is called once, after the envelope went out and
        before its replies are read, to do local work (the spool writes the previous message's receipt there)
        in the time the server takes to answer; if it raises, the connection is dropped and nothing is sent.

        `then` (optional) is (sender, recipients, data) of the message the caller sends next on this session:
        its envelope goes out with this message's content, one write instead of two. The caller must then
        send exactly that message next (its content goes out only after that call's `while_waiting`), or call
        cancel_lookahead(); anything else drops the connection first."""
        sender, recipients, data = self._checked(sender, recipients, data)
        self.connect()
        if not self._conn.has_extn("pipelining"):  # (so no envelope can have gone ahead on this connection)
            if while_waiting:
                while_waiting()
            return super().send_raw(sender, recipients, data)
        envelope = self._envelope(sender, recipients, data)
        if self._ahead is not None and self._ahead != envelope:
            self.cancel_lookahead()  # the caller changed its mind; start over on a new connection
            return self.send_raw(sender, recipients, data, while_waiting, then)
        follow = self._envelope_of_next(then)
        for attempt in range(2):
            try:
                return self._pipelined(envelope, sender, recipients, data, while_waiting if not attempt else None,
                                       follow)
            except _Stale as stale:
                # The server had dropped the connection (or said 421) before MAIL: no content was sent; once more.
                self._drop()
                if attempt:
                    if stale.reply:
                        raise reply_error(stale.reply[0], reply_text(stale.reply[1]), self.server,
                                          "server closing") from None
                    raise TransientError("connection lost before MAIL FROM", server=self.server) from None
                self.connect()
        raise AssertionError("unreachable")

    def cancel_lookahead(self):
        """Forget the envelope sent ahead by `then=` (the caller stops early): drops the connection, since
        after that DATA's 354 even QUIT or RSET would become message content, and "." an empty message."""
        if self._ahead is not None:
            self._drop()

    def close(self):
        self.cancel_lookahead()
        super().close()

    def noop(self):
        if self._ahead is not None:
            self.cancel_lookahead()
            return False
        return super().noop()

    def _forget(self):
        super()._forget()
        self._ahead = None  # its replies are lost with the connection

    # --- one transaction -----------------------------------------------------------------------------

    def _checked(self, sender, recipients, data):
        """SMTPSession._check, remembered for the last message asked."""
        last = self._last_checked
        if last is not None and last[0] is data and last[1] == sender and last[2] == recipients:
            return last[3]
        checked = self._check(sender, recipients, data)
        self._last_checked = (data, sender, list(recipients), checked)  # (holds `data`: its id stays unique)
        return checked

    def _envelope(self, sender, recipients, data) -> bytes:
        """MAIL, RCPT... and DATA as one write. Raises before anything is sent (SIZE, SMTPUTF8)."""
        last = self._last_envelope
        if last is not None and last[0] is data and last[1] is self._conn and last[2] == (sender, recipients):
            return last[3]
        envelope = self._build_envelope(sender, recipients, data)
        self._last_envelope = (data, self._conn, (sender, recipients), envelope)
        return envelope

    def _build_envelope(self, sender, recipients, data) -> bytes:
        options = "".join(" " + o for o in self._mail_options(sender, recipients, data))
        envelope = f"MAIL FROM:<{sender}>{options}\r\n" + "".join(f"RCPT TO:<{r}>\r\n" for r in recipients)
        return (envelope + "DATA\r\n").encode("utf-8")

    def _envelope_of_next(self, then):
        """The envelope of `then` to send ahead, or None when it cannot go (that send_raw raises as usual)."""
        if then is None:
            return None
        try:
            return self._envelope(*self._checked(*then))
        except SessionError:
            return None

    def _pipelined(self, envelope, sender, recipients, data, while_waiting, follow):
        if self._ahead is None:
            self._send_envelope(envelope)
        self._ahead = None  # sent now or earlier: this call reads its replies
        if while_waiting:
            try:
                while_waiting()
            except BaseException:
                self._drop()  # mid-transaction: this connection cannot be used any more
                raise
        code, text = self._mail_reply()
        try:
            with network_errors(self.server, "sending"):
                return self._after_mail(code, text, sender, recipients, data, follow)
        except TransientError as exc:
            if exc.code is None or exc.code == 421:
                self._drop()
            raise

    def _send_envelope(self, envelope):
        try:
            with network_errors(self.server, "MAIL FROM"):
                self._conn.send(envelope)
        except (TransientError, OSError) as exc:
            raise _Stale() from exc

    def _mail_reply(self):
        """The reply to MAIL; a dead connection or a 421 here means no content went out, so _Stale."""
        try:
            with network_errors(self.server, "MAIL FROM"):
                code, text = self._conn.getreply()
        except (TransientError, OSError) as exc:
            raise _Stale() from exc
        if code == 421:
            raise _Stale((code, text))
        return code, text

    def _after_mail(self, mail_code, mail_text, sender, recipients, data, follow):
        conn = self._conn
        replies = [conn.getreply() for _ in recipients]
        data_code, data_text = conn.getreply()
        if mail_code != 250:
            self._reset_after_data(data_code)
            raise reply_error(mail_code, reply_text(mail_text), self.server, f"sender {sender or '<>'} refused")
        accepted, refused = sort_recipients(recipients, replies, self.server)
        if not accepted:
            self._reset_after_data(data_code)
            raise every_recipient_refused(refused, self.server)
        if data_code != 354:
            self._reset_after_data(data_code)
            raise reply_error(data_code, reply_text(data_text), self.server, "DATA refused")
        body = _DOT.sub(b"..", data) if data.startswith(b".") or b"\n." in data else data
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        conn.send(body + b".\r\n" + (follow or b""))
        self._ahead = follow  # its replies follow this content's; the next send_raw reads them
        code, text = conn.getreply()
        if code != 250:
            if self._ahead is None:  # (with an envelope ahead, RSET would land after its DATA, as content)
                self._reset()
            raise reply_error(code, reply_text(text), self.server, "message refused")
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
