"""Which SMTP relay a row or an account talks to, as session keyword arguments."""
from django.conf import settings

from mailsite.mailboxes.models import MailAccount


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


def relay_labels(relay_ids) -> dict:
    """{relay account id (None: the site's relay): "host:port"}, one query: how logs and metrics name a relay (a
    host and port, never an account or its user, and few distinct values however many accounts there are)."""
    labels = {None: f"{settings.EMAIL_HOST.lower()}:{settings.EMAIL_PORT}"}
    ids = {i for i in relay_ids if i is not None}
    for account_id, host, port in MailAccount.objects.filter(id__in=ids).values_list("id", "smtp_host", "smtp_port"):
        labels[account_id] = f"{host.lower()}:{port}"
    return labels
