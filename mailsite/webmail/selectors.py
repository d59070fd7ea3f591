"""Reads for the webmail pages. Every query is scoped to the user."""
from datetime import timedelta

from django.conf import settings
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.timesince import timesince, timeuntil
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from mailsite.mailboxes.models import Attachment, ConnectionTest, MailAccount, Message
from mailsite.mailboxes.placement import Box, conversation_key
from mailsite.webmail.listing import LIST_DEFERRED
from spooler.models import DUE_STATUSES, OutboxStatus
from spooler.services.inbound.errors import error_text


def account_list(*, user):
    return MailAccount.objects.filter(user=user)


def account_get(*, user, account_id: int) -> MailAccount:
    return get_object_or_404(MailAccount, id=account_id, user=user)


def account_outbox_waiting(*, account: MailAccount) -> int:
    """How many of the account's messages wait in the Outbox (removing the account cancels them)."""
    return account.outbox.filter(status__in=[*DUE_STATUSES, OutboxStatus.HELD]).count()


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


THREAD_MAX = 200  # messages a conversation page shows at most (the newest are kept)


def message_thread(*, user, message: Message) -> list[Message]:
    """The whole conversation of a message in its account, oldest first, at most THREAD_MAX.

    Its conversation_id (the References root, see inbound/store.py) is widened to the conversations that members
    started: a reply that named only its parent (In-Reply-To, no References) is filed under the parent's own
    Message-ID, and its replies under theirs. And up: a member filed under a parent not found among the members is
    a reply to a reply; that parent is looked up by its Message-ID (rare: clients send References)."""
    rows = Message.objects.filter(user=user, account_id=message.account_id).exclude(box=Box.DELETED).defer(
        "raw_compressed", "html", "defects")  # (the page shows each message's text)
    members = {message.id: message}
    keys, asked = {message.conversation_id} - {""}, set()
    for _round in range(6):
        if not keys or len(members) >= THREAD_MAX:
            break
        asked |= keys
        for row in rows.filter(conversation_id__in=keys)[:THREAD_MAX]:
            members.setdefault(row.id, row)
        ids = {m.message_id for m in members.values() if m.message_id}
        parents = [m.in_reply_to for m in members.values() if m.in_reply_to and m.in_reply_to not in ids
                   and m.conversation_id == conversation_key(root_id=m.in_reply_to)]
        for row in rows.filter(message_id__in=parents[:20]) if parents else ():
            members.setdefault(row.id, row)
        keys = {conversation_key(root_id=m.message_id) for m in members.values() if m.message_id}
        keys |= {m.conversation_id for m in members.values() if m.conversation_id}
        keys -= asked
    return sorted(members.values(), key=lambda m: (m.sort_at, m.id))[-THREAD_MAX:]


def attachment_get(*, user, attachment_id: int) -> Attachment:
    return get_object_or_404(Attachment.objects.select_related("message"), id=attachment_id,
                             message__account__user=user)


def account_status(account: MailAccount, *, now=None) -> dict:
    """The poll status of one account in plain words (the same text on the page and in the status JSON), in the
    reader's language (the poller stores its errors in English: error_text translates them)."""
    now = now or timezone.now()
    progress = {"done": account.sync_done, "total": account.sync_total} if account.sync_in_progress else None
    counts = {"done": _number(account.sync_done), "total": _number(account.sync_total)}
    if account.polling:
        state = "polling"
        text = _("Downloading: %(done)s of %(total)s") % counts if progress else _("Checking now…")
    elif account.last_poll_error:
        state = "error"
        error = error_text(account.last_poll_error)
        if account.next_poll_at and account.next_poll_at > now:
            text = _("%(error)s Next try in %(time)s.") % {"error": error, "time": timeuntil(account.next_poll_at, now)}
        else:
            text = _("%(error)s Trying again shortly.") % {"error": error}
    elif progress:
        state = "syncing"
        text = _("%(done)s of %(total)s downloaded; the rest follows.") % counts
    elif account.last_polled_at:
        state = "ok"
        fetched, count = account.last_poll_fetched or 0, _number(account.last_poll_fetched)
        if now - account.last_polled_at < timedelta(minutes=1):
            text = ngettext("Checked just now, %(count)s new.", "Checked just now, %(count)s new.", fetched) % {
                "count": count}
        else:
            text = ngettext("Checked %(time)s ago, %(count)s new.", "Checked %(time)s ago, %(count)s new.",
                            fetched) % {"time": timesince(account.last_polled_at, now), "count": count}
    else:
        state = "never"
        text = _("Not checked yet.")
    if account.poll_notice:
        text = f"{text} {error_text(account.poll_notice)}"
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


def connection_test_get(*, user, test_id: int) -> ConnectionTest:
    return get_object_or_404(ConnectionTest, id=test_id, user=user)


def connection_test_status(test: ConnectionTest, *, now=None) -> dict:
    """A connection test for the page that polls it: each side's result in the user's language. "lost": the worker
    never started it, or never finished it (the page stops waiting)."""
    now = now or timezone.now()
    state = test.status
    waited = (now - test.created_at).total_seconds()
    if state == ConnectionTest.Status.QUEUED and waited > settings.MAIL_TEST_PICKUP_SECONDS:
        state = "lost"
    elif state == ConnectionTest.Status.RUNNING and waited > settings.MAIL_TEST_PICKUP_SECONDS + \
            3 * settings.MAIL_TIMEOUT:
        state = "lost"

    def side(ok, result):
        if ok is None:
            return None
        return {"ok": ok, "text": _("Connected.") if ok else _(result) + "."}

    return {"id": test.id, "state": state, "incoming": side(test.incoming_ok, test.incoming_result),
            "smtp": side(test.smtp_ok, test.smtp_result)}


def _number(value: int) -> str:
    """A count with the reader's thousands separator (1,234 in English, 1 234 in Spanish)."""
    return number_format(value or 0, force_grouping=True)
