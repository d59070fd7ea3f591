"""Inbound mail: poll an account's POP3/IMAP server and store each new message in the database.

Order: list → skip what is stored → retrieve → store and commit. Identity is the POP3 UIDL or IMAP
UIDVALIDITY:UID under a unique constraint, so a poll that dies half-way stores nothing twice.
Mail is left on the server (deleting after download comes with the inbound issue).
"""
import hashlib
import html
import logging
import re
import zlib
from datetime import timedelta

import nh3
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from mailsite.webmail.models import MailAccount, Message
from spooler.services.relays import incoming_session
from spooler.sessions import Email, IMAPSession, SessionError

logger = logging.getLogger(__name__)

POLL_TASK = "spooler.tasks.poll_account"
SNIPPET_CHARS = 140


def account_poll(*, account_id: int) -> int | None:
    """Fetch new mail of one account. Returns the number stored, or None if another poll holds the lock."""
    now = timezone.now()
    # One poll per account at a time: a lease taken by a conditional UPDATE, released at the end.
    won = (
        MailAccount.objects.filter(id=account_id)
        .filter(Q(poll_lease_until__isnull=True) | Q(poll_lease_until__lt=now))
        .update(poll_lease_until=now + timedelta(seconds=settings.POLL_LOCK_SECONDS))
    )
    if not won:
        return None
    account = MailAccount.objects.get(id=account_id)
    stored = 0
    error = ""
    try:
        stored = _fetch_new(account)
    except SessionError as exc:
        error = str(exc)
        logger.warning("poll of %s failed: %s", account.address, error)
    finally:
        MailAccount.objects.filter(id=account_id).update(
            poll_lease_until=None, last_polled_at=timezone.now(), last_poll_error=error, last_poll_fetched=stored
        )
    return stored


def _fetch_new(account: MailAccount) -> int:
    stored = 0
    with incoming_session(account) as session:
        prefix = f"{session.uidvalidity}:" if isinstance(session, IMAPSession) else ""
        listing = [(prefix + uid, uid, size) for uid, size in session.uidl()]
        known = set(
            Message.objects.filter(account=account, uid__in=[key for key, _, _ in listing]).values_list("uid", flat=True)
        )
        for key, uid, size in listing:
            if key in known:
                continue
            if size > settings.MAX_MESSAGE_BYTES:
                logger.warning("%s: message %s is %s bytes, over MAX_MESSAGE_BYTES; left on the server", account, uid, size)
                continue
            if stored >= settings.POLL_MAX_MESSAGES:
                break  # the next poll continues where this one stopped
            if message_store(account=account, uid=key, raw=session.retrieve(uid)):
                stored += 1
    return stored


def message_store(*, account: MailAccount, uid: str, raw: bytes) -> Message | None:
    """Parse and store one fetched message; never raises on bad mail. None if it was stored already."""
    parsed = Email.parse(raw)
    text = parsed.text or ""
    if not text.strip() and parsed.html:
        text = html_to_text(parsed.html)
    try:
        with transaction.atomic():
            return Message.objects.create(
                account=account,
                uid=uid,
                raw_compressed=zlib.compress(raw, 6),
                sha256=hashlib.sha256(raw).hexdigest(),
                size=len(raw),
                sender=(parsed.sender or "")[:998],
                to=", ".join(parsed.to or []),
                cc=", ".join(parsed.cc or []),
                subject=(parsed.subject or "")[:998],
                date=parsed.date,
                message_id=(parsed.message_id or "")[:998],
                text=text,
                snippet=snippet(text),
                has_html=bool(parsed.html),
                has_attachments=bool(parsed.attachments),
                parse_error=bool(parsed.defects),
                defects="\n".join(parsed.defects or []),
            )
    except IntegrityError:
        return None  # a concurrent or earlier poll stored it: identity is unique


def html_to_text(markup: str) -> str:
    """The text nh3 leaves when it strips every tag (script and style bodies go with their tags)."""
    cleaned = nh3.clean(markup, tags=set(), attributes={})
    return html.unescape(cleaned).strip()


def snippet(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()[:SNIPPET_CHARS]


def accounts_due_for_poll() -> list[int]:
    """Accounts with no poll running. The beat interval is the poll interval."""
    now = timezone.now()
    return list(
        MailAccount.objects.filter(Q(poll_lease_until__isnull=True) | Q(poll_lease_until__lt=now)).values_list(
            "id", flat=True
        )
    )
