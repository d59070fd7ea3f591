"""The message page and what it opens: the inline parts of its HTML, the original source, remote content."""
from django.contrib.auth.decorators import login_not_required
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from mailsite.mailboxes.models import Attachment, RemoteContentSender
from mailsite.mailboxes.placement import Box
from mailsite.middleware import csp_with_mail_frame
from mailsite.webmail import organize, selectors, services
from mailsite.webmail.reading import parts
from mailsite.webmail.reading.page import message_reading, sender_address
from mailsite.webmail.reading.text import text_blocks
from mailsite.webmail.views.attachments import inert, stored_file
from mailsite.webmail.views.mail import folders_context


def message_detail(request, message_id: int):
    message = selectors.message_get(user=request.user, message_id=message_id)
    services.message_mark_seen(message=message)
    reading = message_reading(user=request.user, message=message, origin=f"{request.scheme}://{request.get_host()}",
                              remote_asked=request.GET.get("remote") == "1", with_headers=request.GET.get("headers") == "1")
    response = render(request, "webmail/message.html", {
        "message": message,
        "reading": reading,
        "attachments": reading.attachments,
        "conversation": selectors.message_conversation(user=request.user, message=message)[:50],
        **folders_context(request, box=message.box, folder=message.folder if message.box == Box.FOLDER else ""),
    })
    if reading.frame:
        response["Content-Security-Policy"] = csp_with_mail_frame(remote=reading.remote)
    return response


def conversation(request, message_id: int):
    """A message's whole thread on one page, oldest first: the unread ones and the last one open (and marked
    read), the others folded to a line. Each shows its text part (the message's own page has its HTML)."""
    message = selectors.message_get(user=request.user, message_id=message_id)
    thread = selectors.message_thread(user=request.user, message=message)
    opened = {m.id for m in thread if not m.seen} | {thread[-1].id, message.id}
    organize.messages_act(user=request.user, ids=list(opened), action="read")
    return render(request, "webmail/conversation.html", {
        "message": message, "thread": [(m, text_blocks(m.text)) for m in thread], "opened": opened,
        **folders_context(request, box=message.box, folder=message.folder if message.box == Box.FOLDER else ""),
    })


@login_not_required  # the sandboxed frame sends no session cookie: the signed URL is the scope
@require_GET
def message_part(request, message_id: int, token: str):
    """One inline image of a message's HTML, by a URL signed for the user, the message and the part."""
    signed = parts.part_unsign(token)
    if signed is None or signed[1] != message_id:
        raise Http404("No such part.")
    user_id, _, attachment_id = signed
    if request.user.is_authenticated and request.user.id != user_id:
        raise Http404("No such part.")
    attachment = get_object_or_404(Attachment, id=attachment_id, message_id=message_id, message__user_id=user_id)
    magic = parts.IMAGE_TYPES.get(attachment.content_type)
    if not magic:
        raise Http404("Not an image.")
    handle, head = stored_file(attachment, missing="This part's file is missing.")
    if not head.startswith(magic):
        handle.close()
        raise Http404("Not an image.")
    response = FileResponse(handle, content_type=attachment.content_type)
    response["Content-Disposition"] = "inline"
    response["Referrer-Policy"] = "no-referrer"
    return inert(response, cache="private, no-store")


@require_GET
def message_original(request, message_id: int):
    """The raw message as the server sent it, as text: shown, never run."""
    message = selectors.message_get(user=request.user, message_id=message_id)
    response = HttpResponse(message.raw, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="message.eml"'
    return inert(response, cache="private, no-store")


@require_POST
def remote_sender_allow(request, message_id: int):
    """"Always show remote content" for this message's sender; back to the message."""
    message = selectors.message_get(user=request.user, message_id=message_id)
    address = sender_address(message)
    if address:
        RemoteContentSender.objects.get_or_create(user=request.user, address=address)
    return redirect("webmail:message", message_id=message.id)
