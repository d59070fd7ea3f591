"""Poll failures in plain words, for the inbox and the admin. The server's own text goes to the detail field."""
from spooler.sessions import (
    AuthenticationError,
    MessageTooLarge,
    PermanentError,
    SessionError,
    TLSError,
    TransientError,
)

WRONG_PASSWORD = "Wrong user name or password"
CERTIFICATE = "The server's certificate was not accepted"
TLS_FAILED = "A secure (TLS) connection could not be set up"
TIMEOUT = "The server did not answer in time"
UNREACHABLE = "The server could not be reached"
UNKNOWN_HOST = "The server's name could not be found"
CONNECTION_LOST = "The connection to the server was lost"
BUSY = "The server refused the login for now"
FOLDER = "A folder could not be opened"
REFUSED = "The server refused a request"
OVERSIZED = "The server sent a message much bigger than it announced"
TOO_LONG = "Checking took too long and was stopped"
UNEXPECTED = "Checking failed unexpectedly; the details are in the server log"


def describe(exc: BaseException) -> str:
    """One sentence for the user: what went wrong and with which server."""
    where = f" ({exc.server})" if isinstance(exc, SessionError) and exc.server else ""
    text = exc.text.lower() if isinstance(exc, SessionError) else ""
    if isinstance(exc, AuthenticationError):
        words = WRONG_PASSWORD
    elif isinstance(exc, TLSError):
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
    return f"{words}{where}."


def detail(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, SessionError) else f"{type(exc).__name__}: {exc}"
