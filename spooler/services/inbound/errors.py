"""Poll failures in plain words, for the inbox and the admin. The server's own text goes to the detail field.

The words are marked for translation (gettext_noop): they are stored in English and translated where shown."""
from django.utils.translation import gettext_noop as _

from spooler.sessions import (
    AuthenticationError,
    MessageTooLarge,
    PermanentError,
    SessionError,
    TLSError,
    TransientError,
)

WRONG_PASSWORD = _("Wrong user name or password")
CERTIFICATE = _("The server's certificate was not accepted")
TLS_FAILED = _("A secure (TLS) connection could not be set up")
TIMEOUT = _("The server did not answer in time")
UNREACHABLE = _("The server could not be reached")
UNKNOWN_HOST = _("The server's name could not be found")
CONNECTION_LOST = _("The connection to the server was lost")
BUSY = _("The server refused the login for now")
FOLDER = _("A folder could not be opened")
REFUSED = _("The server refused a request")
OVERSIZED = _("The server sent a message much bigger than it announced")
TOO_LONG = _("Checking took too long and was stopped")
UNEXPECTED = _("Checking failed unexpectedly; the details are in the server log")
NO_STARTTLS = _("The server does not offer STARTTLS, so the connection would not be secure")
NOT_ALLOWED = _("The administrator does not allow connections to this server")

# What a connection test tells apart: nothing about the network. A refused port, a silent one, a name that is not
# found and a connection closed at once all read "could not be reached", so the test cannot map a network.
_OUT_OF_REACH = frozenset({TIMEOUT, UNREACHABLE, UNKNOWN_HOST, CONNECTION_LOST})


def describe(exc: BaseException) -> str:
    """One sentence for the user: what went wrong and with which server."""
    where = f" ({exc.server})" if isinstance(exc, SessionError) and exc.server else ""
    return f"{failure_words(exc)}{where}."


def connection_test_words(exc: BaseException) -> str:
    """The words of a failed connection test (translatable as they are): as a poll's, minus the network's."""
    found = failure_words(exc)
    return UNREACHABLE if found in _OUT_OF_REACH else found


def failure_words(exc: BaseException) -> str:
    """What went wrong, in plain words (a constant of this module)."""
    text = exc.text.lower() if isinstance(exc, SessionError) else ""
    if isinstance(exc, AuthenticationError):
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
    return str(exc) if isinstance(exc, SessionError) else f"{type(exc).__name__}: {exc}"
