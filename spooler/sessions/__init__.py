"""Mail sessions: POP3, IMAP and SMTP the classic way, as plain Python (no Django here).

This package is the only code in the project that imports smtplib, poplib or imaplib.
Defaults for every timeout and limit are in ``limits``.
"""

from . import limits
from .email import Email
from .errors import (
    AuthenticationError,
    InvalidAddress,
    MessageTooLarge,
    NoAnswer,
    PermanentError,
    RecipientsDeferred,
    RecipientsRefused,
    SessionError,
    TLSError,
    TransientError,
    is_temporary,
)
from .imap import IMAPSession
from .mailsession import MailSession
from .parts import Attachment
from .pipelining import PipeliningSession
from .pop3 import POP3Session
from .reading import MailReader
from .smtp import SendResult, SMTPSession
from .tls import make_context

__all__ = [
    "Attachment", "Email", "SendResult",
    "SMTPSession", "PipeliningSession", "POP3Session", "IMAPSession", "MailSession", "MailReader",
    "SessionError", "TransientError", "NoAnswer", "PermanentError", "AuthenticationError", "TLSError",
    "MessageTooLarge", "RecipientsRefused", "RecipientsDeferred", "InvalidAddress",
    "is_temporary", "limits", "make_context",
]
