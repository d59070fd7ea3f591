"""Writing mail: the compose form writes an outbox row through the services; the spool sends it. A sent message
waits UNDO_SEND_SECONDS in the spool, and the page after sending offers to take it back."""
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from mailsite.webmail import selectors
from mailsite.webmail.compose import contacts, prefill, send
from mailsite.webmail.compose.drafts import draft_attachments
from mailsite.webmail.compose.uploads import CappedUploadHandler
from mailsite.webmail.forms import ComposeForm
from mailsite.webmail.templatetags.mail_format import full_date
from spooler.services.outbound.quota import SendingQuotaExceeded

UNDO_SESSION_KEY = "undo_send"


@csrf_exempt  # only so that the upload handler is in place before the CSRF check reads the body: checked below
def compose(request):
    cap = CappedUploadHandler(request, limit=settings.COMPOSE_MAX_ATTACHMENT_BYTES)
    request.upload_handlers.insert(0, cap)
    return _compose(request, cap)


@csrf_protect
def _compose(request, cap: CappedUploadHandler):
    accounts = selectors.account_list(user=request.user)
    extra = {}
    if request.method == "POST":
        kept = draft_attachments(user=request.user, draft_id=request.POST.get("draft"))
        form = ComposeForm(request.POST, request.FILES, accounts=accounts, uploads_over_limit=cap.over, kept=kept)
        if form.is_valid():
            try:
                row = send.compose_submit(user=request.user, data=form.cleaned_data)
            except ValidationError as exc:
                form.add_error("attachments", exc)
            except SendingQuotaExceeded as exc:  # (nothing queued; the form keeps what was typed)
                form.add_error(None, exc.message)
            else:
                request.session[UNDO_SESSION_KEY] = row.id
                when = form.cleaned_data.get("send_at")
                text = _("Scheduled for %(when)s.") % {"when": full_date(when)} if when else _("Sent.")
                messages.success(request, text, extra_tags="undo-send")
                return redirect("webmail:outbox")
    else:
        initial, extra = prefill.compose_initial(user=request.user, query=request.GET, accounts=accounts)
        kept = draft_attachments(user=request.user, draft_id=initial.get("draft"))
        form = ComposeForm(initial=initial, accounts=accounts, kept=kept)
    return render(request, "webmail/compose.html", {
        "form": form, "has_accounts": accounts.exists(), "signatures": form.fields["account"].signatures(),
        "suggestions": contacts.contact_suggestions(user=request.user),
        **extra,
    })


@require_POST
def compose_undo(request):
    """Take back a message just sent (if it is still waiting in the spool), and open it again as a draft."""
    try:
        outbox_id = int(request.POST.get("outbox", ""))
    except ValueError:
        outbox_id = 0
    draft = send.compose_undo(user=request.user, outbox_id=outbox_id) if outbox_id > 0 else None
    if request.session.get(UNDO_SESSION_KEY) == outbox_id:
        del request.session[UNDO_SESSION_KEY]
    if draft is None:
        messages.error(request, _("Too late to undo: the message is already on its way."))
        return redirect("webmail:outbox")
    messages.info(request, _("Not sent. Your message is back here as a draft."))
    return redirect(reverse("webmail:compose") + f"?draft={draft.id}")
