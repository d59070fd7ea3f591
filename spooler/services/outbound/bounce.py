"""Bounce notices: when recipients fail for good (5xx) or the message expires, tell the sender in their inbox.

The notice is an ordinary message (text/plain: what failed, the server's words, the original headers; the
headers are also attached as text/rfc822-headers) stored in the sender's webmail inbox through the inbound
store, under the uid "bounce-<outbox id>" so that storing it twice stores it once. It never goes over SMTP,
so a bounce can never bounce. Site mail (no relay account) has no inbox: the failure is logged.
"""
import logging
import re

from django.conf import settings
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from mailsite.mailboxes.preferences import preference_locale
from spooler.models import OutboxMessage, RecipientStatus
from spooler.services.inbound.store import message_store
from spooler.sessions import Attachment, Email

logger = logging.getLogger(__name__)

_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def _clean(text) -> str:
    """One line of text, without control characters (nothing can break out of a header or a line)."""
    return _CONTROL.sub(" ", str(text or "")).strip()


def original_headers(raw: bytes) -> bytes:
    """The header block of a stored message (up to the first empty line)."""
    head = re.split(rb"\r?\n\r?\n", raw, maxsplit=1)[0]
    return head[:64 * 1024] + b"\r\n"


def bounce_email(*, row: OutboxMessage, to: str) -> Email:
    """The notice, in the active language and time zone (outbox_bounce sets the sender's)."""
    failed = [(r, o) for r, o in row.outcomes.items() if o.get("status") in (RecipientStatus.FAILED, RecipientStatus.EXPIRED)]
    expired = any(o.get("status") == RecipientStatus.EXPIRED for _r, o in failed)
    subject = _clean(row.subject) or _("(no subject)")
    statuses = dict(RecipientStatus.choices)
    queued = date_format(timezone.localtime(row.created_at), "DATETIME_FORMAT") + " " + \
        timezone.localtime(row.created_at).strftime("%Z")
    lines = [
        _("This is the mail system at Mailsite."),
        "",
        _("Your message could not be delivered to one or more recipients.")
        if not expired else
        _("Your message could not be delivered within its lifetime; the mail system has given up."),
        "",
        _("Subject: %s") % subject,
        f"Message-ID: {_clean(row.message_id)}",
        _("Queued: %s") % queued,
        _("Attempts: %d") % row.attempts,
        "",
        _("What failed, and what the receiving server said:"),
        "",
    ]
    for rcpt, outcome in failed:
        code = outcome.get("code")
        lines.append(f"  <{_clean(rcpt)}>: {statuses.get(outcome.get('status'), outcome.get('status'))}")
        lines.append(f"      {code if code is not None else _('(no reply code)')} {_clean(outcome.get('text'))}")
    sent = [r for r, o in row.outcomes.items() if o.get("status") == RecipientStatus.SENT]
    if sent:
        lines += ["", _("Delivered to: %s") % ", ".join(_clean(r) for r in sent)]
    headers = original_headers(bytes(row.body.raw))
    lines += ["", _("The headers of your message:"), "",
              headers.decode("utf-8", "replace").replace("\r\n", "\n")]
    return Email(
        sender=settings.SPOOL_BOUNCE_FROM,
        to=[to],
        subject=(_("Undelivered Mail Returned to Sender: %s") % subject)[:900],
        text="\n".join(lines),
        attachments=[Attachment("original-headers.txt", "text/rfc822-headers", headers)],
        headers={"Auto-Submitted": "auto-replied"},
        in_reply_to=row.message_id or None,
    )


def outbox_bounce_rows(rows: list[OutboxMessage]) -> None:
    """Store the owed notices of these rows; one that fails is logged and left owed (the sweeper tries again)."""
    for row in rows:
        try:
            outbox_bounce(row=row)
        except Exception:  # noqa: BLE001 - the sweeper tries again; delivery goes on
            logger.exception("bounce notice for outbox %s not stored; the sweeper will try again", row.id)


def outbox_bounce(*, row: OutboxMessage) -> bool:
    """Store the owed bounce notice of a row in its sender's inbox. True when a notice was stored."""
    stored = False
    account = row.relay
    if account is None:
        logger.warning("outbox %s (site mail, %s) failed for %s; no inbox to bounce to", row.id, row.subject,
                       ", ".join(r for r, o in row.outcomes.items() if o.get("status") != RecipientStatus.SENT))
    else:
        # In the sender's language and zone (their settings), whatever the worker's are.
        language, zone = preference_locale(user_id=account.user_id)
        with translation.override(language), timezone.override(zone):
            email = bounce_email(row=row, to=account.address)
        message_store(account=account, uid=f"bounce-{row.id}", raw=email.to_bytes())
        stored = True
    now = timezone.now()
    OutboxMessage.objects.filter(id=row.id).update(bounce_pending=False, bounced_at=now)
    row.bounce_pending, row.bounced_at = False, now
    return stored
