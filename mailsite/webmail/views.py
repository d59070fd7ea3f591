"""Small function views: they read through selectors and write through services, never a mail server."""
import unicodedata
from urllib.parse import quote

from django.contrib import messages
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from mailsite.webmail import selectors, services
from mailsite.webmail.forms import AccountSettingsForm, ComposeForm

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


# Types a browser may be given as they are; everything else downloads as application/octet-stream.
# Images and PDF must also start like one (an "image/png" that is HTML is not served as image/png).
_SAFE_TYPES = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "application/pdf": (b"%PDF-",),
    "text/plain": None,
}


def download_type(content_type: str, head: bytes) -> str:
    magic = _SAFE_TYPES.get(content_type, ())
    if magic is None:
        return "text/plain"
    if magic and head.startswith(magic):
        return content_type
    return "application/octet-stream"


def attachment_disposition(filename: str) -> str:
    """RFC 6266: an ASCII fallback name and the real one as filename* (UTF-8, percent-encoded)."""
    fallback = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    fallback = "".join(c if c.isprintable() and c not in '"\\%;' else "_" for c in fallback).strip(" .") or "attachment"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


@require_GET
def attachment_download(request, attachment_id: int):
    attachment = selectors.attachment_get(user=request.user, attachment_id=attachment_id)
    try:
        handle = default_storage.open(attachment.file.name, "rb")
    except FileNotFoundError:
        raise Http404("This attachment's file is missing.") from None
    head = handle.read(16)
    handle.seek(0)
    response = FileResponse(handle, content_type=download_type(attachment.content_type, head))
    response["Content-Disposition"] = attachment_disposition(attachment.safe_filename)
    response["X-Content-Type-Options"] = "nosniff"
    # Even if a browser rendered it, it would run nothing and reach nothing of the site.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    response["Cache-Control"] = "private, no-store"
    return response


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


@require_GET
def account_status(request):
    """The poll status of the user's accounts, for the inbox to refresh without reloading."""
    accounts = selectors.account_list(user=request.user)
    return JsonResponse({
        "accounts": [selectors.account_status(a) for a in accounts],
        "messages": selectors.message_list(user=request.user).count(),
        "latest": selectors.message_latest_id(user=request.user),
    })


def account_settings(request):
    accounts = selectors.account_list(user=request.user)
    return render(request, "webmail/accounts.html", {
        "rows": [(a, selectors.account_status(a)) for a in accounts],
    })


def account_edit(request, account_id: int):
    account = selectors.account_get(user=request.user, account_id=account_id)
    form = AccountSettingsForm.for_account(account, request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.account_settings_update(account=account, **form.changes())
        messages.success(request, f"Settings of {account.address} saved; it is checked again shortly.")
        return redirect("webmail:accounts")
    return render(request, "webmail/account_edit.html", {"account": account, "form": form})
