"""Reads for the webmail pages. Every query is scoped to the user."""
from django.shortcuts import get_object_or_404

from mailsite.webmail.models import MailAccount, Message
from spooler.models import OutboxMessage


def account_list(*, user):
    return MailAccount.objects.filter(user=user)


def message_list(*, user):
    return Message.objects.filter(account__user=user).select_related("account").defer("raw_compressed", "text")


def message_get(*, user, message_id: int) -> Message:
    return get_object_or_404(Message.objects.select_related("account"), id=message_id, account__user=user)


def outbox_list(*, user):
    return OutboxMessage.objects.filter(user=user).defer("raw")
