"""Drafts: saved by the compose page as the user types (JSON), listed, opened in compose, deleted."""
from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from mailsite.webmail.compose import drafts
from mailsite.webmail.compose.prefill import positive_id


def draft_list(request):
    return render(request, "webmail/drafts.html", {"drafts": drafts.draft_list(user=request.user)[:200]})


@require_POST
def draft_save(request):
    """Save the compose form's fields as they are (the id of a draft already saved in "draft"); JSON answer."""
    try:
        draft = drafts.draft_save(user=request.user, draft_id=positive_id(request.POST.get("draft")),
                                  account_id=request.POST.get("account"), values=request.POST)
    except drafts.DraftTooLarge as exc:
        return JsonResponse({"error": str(exc)}, status=413)
    return JsonResponse({"id": draft.id, "saved_at": draft.updated_at.isoformat()})


@require_POST
def draft_delete(request, draft_id: int):
    if drafts.draft_delete(user=request.user, draft_id=draft_id):
        messages.success(request, _("Draft deleted."))
    return redirect("webmail:drafts")
