"""The user's outbox: their spooled messages and how each is doing."""
from django.core.paginator import Paginator
from django.shortcuts import render

from mailsite.webmail import selectors
from mailsite.webmail.views.mail import PAGE_SIZE


def outbox(request):
    page = Paginator(selectors.outbox_list(user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "webmail/outbox.html", {"page": page})
