"""Which SMTP / POP3 / IMAP server a row or an account talks to, as session keyword arguments."""
from django.conf import settings

from spooler.sessions import IMAPSession, POP3Session, SMTPSession


def smtp_params(account) -> dict:
    """Connection settings of an account's SMTP relay, or of the site's default relay when account is None."""
    if account is None:
        return {
            "host": settings.EMAIL_HOST,
            "port": settings.EMAIL_PORT,
            "username": settings.EMAIL_HOST_USER or None,
            "password": settings.EMAIL_HOST_PASSWORD or None,
            "security": settings.EMAIL_SECURITY,
            "timeout": settings.EMAIL_TIMEOUT,
        }
    return {
        "host": account.smtp_host,
        "port": account.smtp_port,
        "username": account.smtp_username or None,
        "password": account.smtp_password or None,
        "security": account.smtp_security,
        "timeout": settings.MAIL_TIMEOUT,
    }


def smtp_session(account) -> SMTPSession:
    return SMTPSession(**smtp_params(account))


def incoming_session(account) -> POP3Session | IMAPSession:
    cls = IMAPSession if account.incoming_protocol == "imap" else POP3Session
    return cls(
        host=account.incoming_host,
        port=account.incoming_port,
        username=account.incoming_username,
        password=account.incoming_password,
        security=account.incoming_security,
        timeout=settings.MAIL_TIMEOUT,
        max_message_bytes=settings.MAX_MESSAGE_BYTES,
    )
