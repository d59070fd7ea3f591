"""Poll failures in plain words, for the inbox and the admin. The server's own text goes to the detail field.

The words are stored in English (the poller has no reader); they are marked with gettext_noop and translated when
a page shows them (error_text)."""
from django.utils.translation import gettext, gettext_noop

from spooler.sessions import (
    AuthenticationError,
    MessageTooLarge,
    PermanentError,
    SessionError,
    TLSError,
    TransientError,
)

WRONG_PASSWORD = gettext_noop("Wrong user name or password")
CERTIFICATE = gettext_noop("The server's certificate was not accepted")
TLS_FAILED = gettext_noop("A secure (TLS) connection could not be set up")
TIMEOUT = gettext_noop("The server did not answer in time")
UNREACHABLE = gettext_noop("The server could not be reached")
UNKNOWN_HOST = gettext_noop("The server's name could not be found")
CONNECTION_LOST = gettext_noop("The connection to the server was lost")
BUSY = gettext_noop("The server refused the login for now")
FOLDER = gettext_noop("A folder could not be opened")
REFUSED = gettext_noop("The server refused a request")
OVERSIZED = gettext_noop("The server sent a message much bigger than it announced")
TOO_LONG = gettext_noop("Checking took too long and was stopped")
UNEXPECTED = gettext_noop("Checking failed unexpectedly; the details are in the server log")
NO_STARTTLS = gettext_noop("The server does not offer STARTTLS, so the connection would not be secure")
NOT_ALLOWED = gettext_noop("The administrator does not allow connections to this server")

class HostRefused(Exception):
    """A host may not be connected to (spooler.services.mail_hosts). ``words`` (a constant here) says why;
    ``unresolved``: its name was not found (or not in time)."""

    def __init__(self, words: str, *, unresolved: bool = False):
        super().__init__(words)
        self.words = words
        self.unresolved = unresolved


# What a connection test tells apart: nothing about the network. A refused port, a silent one, a name that is not
# found and a connection closed at once all read "could not be reached", so the test cannot map a network.
_OUT_OF_REACH = frozenset({TIMEOUT, UNREACHABLE, UNKNOWN_HOST, CONNECTION_LOST})


def describe(exc: BaseException, *, network: bool = True) -> str:
    """One sentence for the user: what went wrong and with which server. network=False (a server the user typed
    in): the words a connection test gives, which do not tell a closed port from a silent one."""
    where = f" ({exc.server})" if isinstance(exc, SessionError) and exc.server else ""
    return f"{failure_words(exc) if network else connection_test_words(exc)}{where}."


def connection_test_words(exc: BaseException) -> str:
    """The words of a failed connection test (translatable as they are): as a poll's, minus the network's."""
    found = failure_words(exc)
    return UNREACHABLE if found in _OUT_OF_REACH else found


def failure_words(exc: BaseException) -> str:
    """What went wrong, in plain words (a constant of this module)."""
    text = exc.text.lower() if isinstance(exc, SessionError) else ""
    if isinstance(exc, HostRefused):
        words = exc.words
    elif isinstance(exc, AuthenticationError):
        words = WRONG_PASSWORD
    elif isinstance(exc, TLSError):
        if "does not offer" in text:
            words = NO_STARTTLS
        else:
            words = CERTIFICATE if "certificate" in text else TLS_FAILED
    elif isinstance(exc, TransientError):
        if "timeout" in text or "timed out" in text:
            words = TIMEOUT
        elif "not resolved" in text:
            words = UNKNOWN_HOST
        elif "refused while connecting" in text or "connection refused" in text or "while connecting" in text:
            words = UNREACHABLE
        elif "login refused for now" in text:
            words = BUSY
        else:
            words = CONNECTION_LOST
    elif isinstance(exc, MessageTooLarge):
        words = OVERSIZED
    elif isinstance(exc, PermanentError):
        words = FOLDER if "selecting folder" in text else REFUSED
    elif type(exc).__name__ in ("SoftTimeLimitExceeded", "TimeLimitExceeded"):
        words = TOO_LONG
    else:
        words = UNEXPECTED
    return words


def detail(exc: BaseException) -> str:
    if isinstance(exc, HostRefused):
        return f"refused by MAIL_ALLOWED_HOSTS / MAIL_PUBLIC_PORTS: {exc.words}"
    return str(exc) if isinstance(exc, SessionError) else f"{type(exc).__name__}: {exc}"


NO_UIDL = gettext_noop("This server cannot identify messages (it has no UIDL): mail is left on the server.")
_WORDS = (WRONG_PASSWORD, CERTIFICATE, TLS_FAILED, TIMEOUT, UNREACHABLE, UNKNOWN_HOST, CONNECTION_LOST, BUSY, FOLDER,
          REFUSED, OVERSIZED, TOO_LONG, UNEXPECTED, NO_STARTTLS, NOT_ALLOWED, NO_UIDL)


def error_text(stored: str) -> str:
    """A stored error or notice ("<words> (<server>)."), its words in the reader's language; other text as is."""
    for words in _WORDS:
        if stored.startswith(words):
            return gettext(words) + stored[len(words):]
    return stored
