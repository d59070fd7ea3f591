"""A Django EMAIL_BACKEND that spools: every send_mail / EmailMessage of the site goes through the outbox."""
import logging

from django.core.mail.backends.base import BaseEmailBackend

from spooler.services.outbound.enqueue import outbox_enqueue
from spooler.sessions import Attachment, Email

logger = logging.getLogger(__name__)


class EmailBackend(BaseEmailBackend):
    """Writes one outbox row per message (in the caller's transaction); the worker is woken on commit.
    Nothing here talks to SMTP or waits on Redis."""

    def send_messages(self, email_messages) -> int:
        count = 0
        for message in email_messages:
            try:
                outbox_enqueue(email=_to_email(message))
            except ValueError:  # a header with a line break, no recipient, ...: never spooled
                if not self.fail_silently:
                    raise
                logger.warning("message %r not spooled", getattr(message, "subject", ""), exc_info=True)
                continue
            count += 1
        return count


def _to_email(message) -> Email:
    """Translate Django's EmailMessage into our Email; the spool builds the bytes itself."""
    html = None
    for content, mimetype in getattr(message, "alternatives", []):
        if mimetype == "text/html":
            html = content
    attachments = []
    for item in message.attachments:
        if isinstance(item, tuple | list) and len(item) == 3:
            filename, content, mimetype = item
            data = content.encode() if isinstance(content, str) else content
            attachments.append(Attachment(filename or "attachment", mimetype or "application/octet-stream", data))
        else:  # a MIMEBase part attached as is
            attachments.append(
                Attachment(item.get_filename() or "attachment", item.get_content_type(), item.get_payload(decode=True) or b"")
            )
    return Email(
        sender=message.from_email,
        to=list(message.to),
        cc=list(message.cc),
        bcc=list(message.bcc),
        reply_to=list(message.reply_to),
        subject=message.subject,
        text=message.body,
        html=html,
        attachments=attachments,
        headers=dict(message.extra_headers),
    )
