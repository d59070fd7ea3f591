"""The user's mail accounts: their poll status, "check now"; adding, changing, testing and removing them."""
from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from mailsite.mailboxes.models import DEFAULT_PORTS, MailAccount
from mailsite.webmail import listing, selectors, services
from mailsite.webmail.account_forms import AccountForm, IdentityFormSet, TestConnectionForm
from spooler.services.connection_test import TooManyTests, connection_test_start
from spooler.services.inbound.schedule import CheckNowLimited


@require_POST
def check_now(request):
    wants_json = request.headers.get("Accept") == "application/json"
    try:
        queued, busy = services.accounts_check_now(user=request.user)
    except CheckNowLimited:
        text = _("You asked to check for new mail too often; wait a minute. Mail is also checked periodically.")
        if wants_json:
            return JsonResponse({"queued": 0, "limited": True, "message": text}, status=429)
        messages.error(request, text)
        return redirect("webmail:inbox")
    if wants_json:
        return JsonResponse({"queued": queued, **({"busy": busy} if busy else {})})
    if queued or busy:
        messages.info(request, _("Checking for new mail…"))
    else:
        messages.info(request, _("Could not reach the mail worker; mail is checked periodically."))
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


# The passwords typed are hidden from error reports (the request's POST and these frames' variables).
PASSWORDS = ("incoming_password", "smtp_password")


@sensitive_post_parameters(*PASSWORDS)
@require_http_methods(["GET", "POST"])
def account_add(request):
    return _account_form(request, None)


@sensitive_post_parameters(*PASSWORDS)
@require_http_methods(["GET", "POST"])
def account_edit(request, account_id: int):
    return _account_form(request, selectors.account_get(user=request.user, account_id=account_id))


@sensitive_variables()  # every variable: the form's cleaned data and the fields saved hold the passwords
def _account_form(request, account):
    form = AccountForm(request.POST or None, account=account)
    identities = IdentityFormSet(request.POST or None, instance=account or MailAccount(user=request.user),
                                 prefix="identities")
    if request.method == "POST" and form.is_valid() and identities.is_valid():
        saved = services.account_save(user=request.user, account=account, fields=form.account_fields(),
                                      identities=identities, typed_sides=form.typed_sides())
        messages.success(request, _("%(address)s saved; it is checked for new mail shortly.")
                         % {"address": saved.address})
        return redirect("webmail:accounts")
    test_url = reverse("webmail:account_test", args=[account.id]) if account else reverse("webmail:account_test_new")
    return render(request, "webmail/account_edit.html", {
        "account": account, "form": form, "identities": identities, "test_url": test_url, "default_ports": DEFAULT_PORTS,
    })


@require_http_methods(["GET", "POST"])
def account_remove(request, account_id: int):
    account = selectors.account_get(user=request.user, account_id=account_id)
    if request.method == "POST":
        address = account.address
        removed = services.account_remove(account=account)
        messages.success(request, _("%(address)s removed, with its %(count)d stored messages.")
                         % {"address": address, "count": removed})
        return redirect("webmail:accounts")
    return render(request, "webmail/account_remove.html", {
        "account": account, "stored": account.messages.count(),
        "waiting": selectors.account_outbox_waiting(account=account),
    })


@sensitive_post_parameters(*PASSWORDS)
@sensitive_variables()
@require_POST
def account_test(request, account_id: int | None = None):
    """Start a test of the settings the form holds now (not saved); 202 with the URL to poll, or 400 with the
    fields' errors."""
    account = selectors.account_get(user=request.user, account_id=account_id) if account_id else None
    form = TestConnectionForm(request.POST, account=account)
    if not form.is_valid():
        return JsonResponse({"errors": {name: [str(e) for e in errs] for name, errs in form.errors.items()}},
                            status=400)
    try:
        test = connection_test_start(user=request.user, account=account, settings_tried=form.test_settings(),
                                     incoming_password=form.cleaned_data.get("incoming_password") or "",
                                     smtp_password=form.cleaned_data.get("smtp_password") or "")
    except TooManyTests:
        return JsonResponse({"error": _("A test is still running. Wait for its result, then try again.")},
                            status=429)
    return JsonResponse({"id": test.id, "status_url": reverse("webmail:account_test_status", args=[test.id])},
                        status=202)


@require_GET
def account_test_status(request, test_id: int):
    test = selectors.connection_test_get(user=request.user, test_id=test_id)
    return JsonResponse(selectors.connection_test_status(test))
