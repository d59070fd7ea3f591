"""The user's mail accounts: their poll status, "check now", and the settings a user may change."""
from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from mailsite.webmail import listing, selectors, services
from mailsite.webmail.forms import AccountSettingsForm


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
        "latest": listing.message_latest_id(user=request.user),
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
