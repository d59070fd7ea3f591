"""The exceptions callers decide on: transient (retry later) or permanent (give up); and the rule for codes."""


def is_temporary(code: int | None) -> bool:
    """Whether a reply code says "try again later": SMTP's 4xx (RFC 5321 4.2.1). Any other code, 5xx above all,
    is permanent. None (no reply: a timeout, a lost connection) is not a 4xx: decide those by the exception's
    class. The one place this rule lives, for the sessions and for the spool."""
    return code is not None and 400 <= code < 500


class SessionError(Exception):
    """A mail server session failed. ``code`` is the server's reply code when there was one."""

    def __init__(self, text, *, code=None, server=""):
        self.text = str(text)
        self.code = code
        self.server = server
        super().__init__(self.text)

    def __str__(self):
        where = f"mail server {self.server}" if self.server else "mail server"
        if self.code is not None:
            return f"{where} answered {self.code}: {self.text}"
        return f"{where}: {self.text}"


class TransientError(SessionError):
    """Try again later: 4xx replies, timeouts, refused or dropped connections."""


class NoAnswer(TransientError):
    """The server said nothing within the timeout (a silent or hung server; or a network that drops packets)."""


class PermanentError(SessionError):
    """Do not retry as is: 5xx replies."""


class AuthenticationError(PermanentError):
    """The server refused the user name or password."""


class TLSError(TransientError):
    """TLS could not be set up: bad certificate, handshake failure, STARTTLS/STLS refused."""


class MessageTooLarge(PermanentError):
    """A message is bigger than the allowed maximum; nothing was transferred."""

    def __init__(self, text, *, size=None, limit=None, code=None, server=""):
        super().__init__(text, code=code, server=server)
        self.size = size
        self.limit = limit


class RecipientsRefused(PermanentError):
    """Every recipient was refused with a 5xx. ``refused`` maps address -> (code, text)."""

    def __init__(self, text, *, refused, code=None, server=""):
        super().__init__(text, code=code, server=server)
        self.refused = refused


class RecipientsDeferred(TransientError):
    """Every recipient was refused, each with a 4xx. ``refused`` maps address -> (code, text)."""

    def __init__(self, text, *, refused, code=None, server=""):
        super().__init__(text, code=code, server=server)
        self.refused = refused


class InvalidAddress(PermanentError, ValueError):
    """An envelope address is malformed or would inject commands; nothing was sent. Also a ValueError."""
