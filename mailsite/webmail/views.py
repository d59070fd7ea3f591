"""Small function views: they read through selectors and write through services, never a mail server."""
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from mailsite.webmail import selectors, services
from mailsite.webmail.forms import ComposeForm

PAGE_SIZE = 50


def inbox(request):
    page = Paginator(selectors.message_list(user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    accounts = selectors.account_list(user=request.user)
    return render(request, "webmail/inbox.html", {"page": page, "accounts": accounts})


def message_detail(request, message_id: int):
    message = selectors.message_get(user=request.user, message_id=message_id)
    services.message_mark_seen(message=message)
    return render(request, "webmail/message.html", {"message": message})


def compose(request):
    accounts = selectors.account_list(user=request.user)
    form = ComposeForm(request.POST or None, accounts=accounts)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        services.compose_send(
            user=request.user, account=data["account"], to=data["to"], cc=data["cc"], subject=data["subject"], text=data["text"]
        )
        messages.success(request, "Your message is queued for delivery.")
        return redirect("webmail:outbox")
    return render(request, "webmail/compose.html", {"form": form, "has_accounts": accounts.exists()})


def outbox(request):
    page = Paginator(selectors.outbox_list(user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "webmail/outbox.html", {"page": page})


@require_POST
def check_now(request):
    queued = services.accounts_check_now(user=request.user)
    if request.headers.get("Accept") == "application/json":
        return JsonResponse({"queued": queued})
    messages.info(request, "Checking for new mail…" if queued else "Could not reach the mail worker; mail is checked periodically.")
    return redirect("webmail:inbox")


def account_status(request):
    """The poll status of the user's accounts, for the inbox to refresh without reloading."""
    accounts = selectors.account_list(user=request.user)
    return JsonResponse(
        {
            "accounts": [
                {
                    "address": a.address,
                    "last_polled_at": a.last_polled_at.isoformat() if a.last_polled_at else None,
                    "last_poll_error": a.last_poll_error,
                    "last_poll_fetched": a.last_poll_fetched,
                }
                for a in accounts
            ],
            "messages": selectors.message_list(user=request.user).count(),
        }
    )
