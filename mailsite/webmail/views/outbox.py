"""The user's Outbox (spooled, not settled yet: its state live) and Sent (settled), and one spooled message."""
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET

from mailsite.webmail import outbox_state
from mailsite.webmail.views.mail import folders_context


def outbox(request):
    """Outbox, or Sent with ?view=sent: newest first, 50 a page by keyset (?before=<id>)."""
    sent = request.GET.get("view") == "sent"
    page = outbox_state.outbox_page(user=request.user, sent=sent, before=request.GET.get("before"))
    return render(request, "webmail/outbox.html", {
        "page": page, "sent": sent, "title": pgettext("folder", "Sent") if sent else _("Outbox"),
        **folders_context(request, box="sent" if sent else "outbox"),
    })


@require_GET
def outbox_status(request):
    """The live state of the user's spooled messages named in ?ids=1,2,3 (others' ids are not found)."""
    ids = [i for i in request.GET.get("ids", "").split(",") if i.isdigit()][:outbox_state.PAGE_SIZE]
    return JsonResponse({"messages": [outbox_state.row_state(row) for row in
                                      outbox_state.outbox_rows(user=request.user, ids=ids)]})


def outbox_detail(request, outbox_id: int):
    """One spooled message, opened like a received one, with its delivery per recipient and its attempts."""
    row = outbox_state.outbox_get(user=request.user, outbox_id=outbox_id)
    attempts = list(row.delivery_attempts.order_by("at")[:100])
    for attempt in attempts:
        attempt.outcome_text = outbox_state.status_text(attempt.outcome)
    return render(request, "webmail/outbox_message.html", {
        "row": row, "state": outbox_state.row_state(row), "contents": outbox_state.contents(row),
        "attempts": attempts,
        **folders_context(request, box="sent" if row.status in outbox_state.SENT_STATUSES else "outbox"),
    })
