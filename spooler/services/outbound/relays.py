"""Which SMTP relay a row or an account talks to, as session keyword arguments."""
from django.conf import settings


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
            "connect_timeout": settings.SPOOL_CONNECT_TIMEOUT,
        }
    return {
        "host": account.smtp_host,
        "port": account.smtp_port,
        "username": account.smtp_username or None,
        "password": account.smtp_password or None,
        "security": account.smtp_security,
        "timeout": settings.MAIL_TIMEOUT,
        "connect_timeout": settings.SPOOL_CONNECT_TIMEOUT,
    }
