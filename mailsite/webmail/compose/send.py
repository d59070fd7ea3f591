"""Sending from the compose form, and taking a message back (undo send). The spool holds every sent message for
UNDO_SEND_SECONDS (its not_before), so that undo really stops it; "send later" holds it until the time chosen."""
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _

from mailsite.webmail import selectors, services
from mailsite.webmail.compose import replies
from mailsite.webmail.compose.contacts import contacts_note
from mailsite.webmail.compose.drafts import draft_attachment_parts, draft_delete, draft_from_outgoing
from mailsite.webmail.forms import attachment_parts
from spooler.models import OutboxMessage
from spooler.services.outbound.enqueue import outbox_recall


def send_time(*, send_at=None, now=None):
    """The spool's not_before: the time chosen, and never before the undo window is over."""
    now = now or timezone.now()
    undo = now + timedelta(seconds=settings.UNDO_SEND_SECONDS) if settings.UNDO_SEND_SECONDS > 0 else None
    if send_at and undo:
        return max(send_at, undo)
    return send_at or undo


def compose_submit(*, user, data: dict) -> OutboxMessage:
    """Spool what the (valid) compose form holds; its draft, if any, is removed. Raises ValidationError (for the
    attachments field) when a message forwarded as an attachment takes the attachments over the limit."""
    files = [(name, ctype, upload.read()) for name, ctype, upload in attachment_parts(data.get("attachments") or [])]
    if data.get("draft") and data.get("keep"):
        files[:0] = draft_attachment_parts(user=user, draft_id=data["draft"], ids=data["keep"])
    if data.get("forward_attached"):
        message = selectors.message_get(user=user, message_id=data["forward_attached"])
        files.insert(0, (replies.attachment_name(message.subject), "message/rfc822", message.raw))
    total, limit = sum(len(body) for _n, _t, body in files), settings.COMPOSE_MAX_ATTACHMENT_BYTES
    if total > limit:
        raise ValidationError(_("Attachments may be %(limit)s together; with the forwarded message these are "
                                "%(total)s. Nothing was sent.") % {"limit": filesizeformat(limit),
                                                                    "total": filesizeformat(total)})
    with transaction.atomic():
        row = services.compose_send(
            user=user, account=data["account"], identity=data.get("identity"), to=data["to"], cc=data["cc"],
            bcc=data["bcc"], subject=data["subject"], text=data["text"], attachments=files,
            in_reply_to=data["in_reply_to"],
            references=data["references"], not_before=send_time(send_at=data.get("send_at")),
        )
        if data.get("draft"):
            draft_delete(user=user, draft_id=data["draft"])
        contacts_note(user=user, addresses=[*data["to"], *data["cc"], *data["bcc"]])
    return row


def compose_undo(*, user, outbox_id: int):
    """Cancel the user's message if it is still waiting, and keep it as a draft. The draft, or None if too late."""
    with transaction.atomic():
        recalled = outbox_recall(user=user, outbox_id=outbox_id)
        if recalled is None:
            return None
        row, mail = recalled
        account = row.relay if row.relay and row.relay.user_id == user.id else None
        return draft_from_outgoing(user=user, account=account, mail=mail)
