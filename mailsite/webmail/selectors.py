"""Reads for the webmail pages. Every query is scoped to the user."""
from datetime import timedelta

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.timesince import timesince, timeuntil

from mailsite.mailboxes.models import Attachment, MailAccount, Message
from mailsite.mailboxes.placement import Box
from mailsite.webmail.listing import LIST_DEFERRED


def account_list(*, user):
    return MailAccount.objects.filter(user=user)


def account_get(*, user, account_id: int) -> MailAccount:
    return get_object_or_404(MailAccount, id=account_id, user=user)


def message_get(*, user, message_id: int) -> Message:
    return get_object_or_404(Message.objects.select_related("account").exclude(box=Box.DELETED), id=message_id,
                             user=user)


def message_conversation(*, user, message: Message):
    """The other messages of the same conversation in the same account (oldest first)."""
    if not message.conversation_id:
        return Message.objects.none()
    return (
        Message.objects.filter(user=user, account_id=message.account_id, conversation_id=message.conversation_id)
        .exclude(id=message.id).exclude(box=Box.DELETED)
        .defer(*LIST_DEFERRED)
        .order_by("date", "id")
    )


def attachment_get(*, user, attachment_id: int) -> Attachment:
    return get_object_or_404(Attachment.objects.select_related("message"), id=attachment_id,
                             message__account__user=user)


def account_status(account: MailAccount, *, now=None) -> dict:
    """The poll status of one account in plain words (the same text on the page and in the status JSON)."""
    now = now or timezone.now()
    progress = {"done": account.sync_done, "total": account.sync_total} if account.sync_in_progress else None
    if account.polling:
        state = "polling"
        text = f"Downloading: {account.sync_done:,} of {account.sync_total:,}" if progress else "Checking now…"
    elif account.last_poll_error:
        state = "error"
        if account.next_poll_at and account.next_poll_at > now:
            text = f"{account.last_poll_error} Next try in {timeuntil(account.next_poll_at, now)}."
        else:
            text = f"{account.last_poll_error} Trying again shortly."
    elif progress:
        state = "syncing"
        text = f"{account.sync_done:,} of {account.sync_total:,} downloaded; the rest follows."
    elif account.last_polled_at:
        state = "ok"
        fetched = account.last_poll_fetched
        when = "just now" if now - account.last_polled_at < timedelta(minutes=1) else \
            f"{timesince(account.last_polled_at, now)} ago"
        text = f"Checked {when}, {fetched:,} new."
    else:
        state = "never"
        text = "Not checked yet."
    if account.poll_notice:
        text = f"{text} {account.poll_notice}"
    return {
        "id": account.id,
        "address": account.address,
        "state": state,
        "text": text,
        "polling": account.polling,
        "progress": progress,
        "last_polled_at": account.last_polled_at.isoformat() if account.last_polled_at else None,
        "last_poll_error": account.last_poll_error,
        "last_poll_fetched": account.last_poll_fetched,
        "next_poll_at": account.next_poll_at.isoformat() if account.next_poll_at else None,
    }
