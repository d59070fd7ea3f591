"""Writes of the webmail pages. Sending only writes an outbox row; the spool delivers."""
from django.db import transaction
from django.views.decorators.debug import sensitive_variables

from mailsite.mailboxes.models import Identity, MailAccount, Message
from mailsite.mailboxes.outgoing import OutgoingMail
from mailsite.webmail import organize
from spooler.models import OutboxMessage
from spooler.services.broker import accounts_poll_request
from spooler.services.inbound.schedule import accounts_mark_for_check_now
from spooler.services.mail_hosts import account_servers_mark
from spooler.services.outbound.enqueue import outbox_send
from spooler.services.outbound.queue_ops import outbox_cancel


def compose_send(*, user, account: MailAccount, to: list[str], cc: list[str], subject: str, text: str,
                 bcc: list[str] = (), attachments=(), in_reply_to: str = "", references: list[str] = (),
                 not_before=None, identity: Identity | None = None) -> OutboxMessage:
    """Spool a written message, from the account's own name and address or one of its identities (through the
    account's SMTP server either way). `attachments`: (filename, content type, bytes); Bcc: the envelope only."""
    mail = OutgoingMail(sender=(identity or account).from_header, to=to, cc=cc, subject=subject, text=text, bcc=list(bcc),
                        attachments=list(attachments), in_reply_to=in_reply_to, references=list(references))
    with transaction.atomic():
        return outbox_send(mail=mail, relay=account, user=user, not_before=not_before)


def message_mark_seen(*, message: Message) -> None:
    """Opened: read here, and on its IMAP server (organize marks the row for the write-back)."""
    if not message.seen:
        organize.messages_act(user=message.user_id, ids=[message.id], action="read")
        message.seen = True


def accounts_check_now(*, user) -> tuple[int, int]:
    """Ask the worker to poll the user's accounts now (whatever their schedule or backoff), except those whose poll
    is already queued or running. Returns (polls queued, accounts already being checked).

    Raises CheckNowLimited when the user asked too often (nothing queued). Never raises if the broker is down:
    beat polls anyway."""
    marked, busy = accounts_mark_for_check_now(user=user)
    return accounts_poll_request(account_ids=marked, marked=True), busy


@sensitive_variables()  # `fields` holds the passwords typed
def account_save(*, user, fields: dict, account: MailAccount | None = None, identities=None,
                 typed_sides=()) -> MailAccount:
    """Add an account to the user's, or change one of theirs (`fields` from the account form; `identities` a
    valid identity formset, saved with it). Its backoff is forgotten and it is polled at the next beat.
    `typed_sides` ("incoming", "smtp"): servers the user typed in, checked again before every connection."""
    account = account or MailAccount(user=user)
    for name, value in fields.items():
        setattr(account, name, value)
    account.poll_failures = 0
    account.next_poll_at = None
    with transaction.atomic():
        account.save()
        account_servers_mark(account=account, sides=typed_sides)
        if identities is not None:
            identities.instance = account
            identities.save()
    return account


def account_remove(*, account: MailAccount) -> int:
    """Remove an account and the messages stored from it (they stay on the server if they were left there).
    Its messages still waiting in the Outbox are cancelled, not sent through another relay. Returns how many
    stored messages were deleted."""
    with transaction.atomic():
        outbox_cancel(ids=list(account.outbox.values_list("id", flat=True)))
        stored = account.messages.count()
        account.delete()
    return stored
