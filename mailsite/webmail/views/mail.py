"""The message list and the message page."""
from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from mailsite.webmail import selectors, services

PAGE_SIZE = 50


def _inbox_page(request):
    return Paginator(selectors.message_list(user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))


def inbox(request):
    accounts = selectors.account_list(user=request.user)
    return render(request, "webmail/inbox.html", {
        "page": _inbox_page(request),
        "statuses": [selectors.account_status(a) for a in accounts],
        "latest": selectors.message_latest_id(user=request.user),
    })


@require_GET
def inbox_rows(request):
    """The rows and the pager of an inbox page, server-rendered, for the inbox to swap in without reloading."""
    return render(request, "webmail/_inbox_fragment.html", {
        "page": _inbox_page(request), "latest": selectors.message_latest_id(user=request.user),
    })


def message_detail(request, message_id: int):
    message = selectors.message_get(user=request.user, message_id=message_id)
    services.message_mark_seen(message=message)
    return render(request, "webmail/message.html", {
        "message": message,
        "attachments": message.attachments.all(),
        "conversation": selectors.message_conversation(user=request.user, message=message)[:50],
    })
