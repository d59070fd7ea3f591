"""MailSession: one object that starts a reading session (POP3 or IMAP) and an SMTP session together."""

from .errors import SessionError
from .imap import IMAPSession
from .pop3 import POP3Session


class MailSession:
    """Starts both sessions, closes both. Reading calls go to the reader, send() to SMTP."""

    def __init__(self, *, pop3=None, imap=None, smtp=None):
        if pop3 is not None and imap is not None:
            raise ValueError("give pop3 or imap, not both")
        self.reader = pop3 if pop3 is not None else imap
        self.smtp = smtp
        if self.reader is None and smtp is None:
            raise ValueError("a MailSession needs a reading session, an SMTP session, or both")

    @property
    def pop3(self):
        return self.reader if isinstance(self.reader, POP3Session) else None

    @property
    def imap(self):
        return self.reader if isinstance(self.reader, IMAPSession) else None

    def connect(self):
        started = []
        try:
            for session in (self.reader, self.smtp):
                if session is not None:
                    session.connect()
                    started.append(session)
        except BaseException:
            for session in started:
                _close_quietly(session)
            raise
        return self

    def close(self):
        """Close both; the first failure is raised after both were closed."""
        first = None
        for session in (self.reader, self.smtp):
            if session is None:
                continue
            try:
                session.close()
            except SessionError as exc:
                first = first or exc
        if first is not None:
            raise first

    def __enter__(self):
        return self.connect()

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        else:
            for session in (self.reader, self.smtp):
                if session is not None:
                    _close_quietly(session)

    # --- the classic calls, delegated ----------------------------------------------------------------

    def send(self, email):
        return self._need(self.smtp, "SMTP").send(email)

    def send_raw(self, sender, recipients, data):
        return self._need(self.smtp, "SMTP").send_raw(sender, recipients, data)

    def get_all(self):
        return self._need(self.reader, "reading").get_all()

    def read_first(self):
        return self._need(self.reader, "reading").read_first()

    def read_next(self):
        return self._need(self.reader, "reading").read_next()

    @property
    def out(self):
        return self._need(self.reader, "reading").out

    def __iter__(self):
        return iter(self._need(self.reader, "reading"))

    def uidl(self):
        return self._need(self.reader, "reading").uidl()

    def retrieve(self, uid):
        return self._need(self.reader, "reading").retrieve(uid)

    def delete(self, uid):
        return self._need(self.reader, "reading").delete(uid)

    @staticmethod
    def _need(session, kind):
        if session is None:
            raise ValueError(f"this MailSession has no {kind} session")
        return session


def _close_quietly(session):
    try:
        session.close()
    except SessionError:
        pass
