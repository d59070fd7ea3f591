"""Writing mail: the compose form writes an outbox row through the services; the spool sends it."""
from django.contrib import messages
from django.shortcuts import redirect, render

from mailsite.webmail import selectors, services
from mailsite.webmail.forms import ComposeForm


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
