"""The folders' message lists and the actions on them (the message page is in reading.py)."""
from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from mailsite.mailboxes.placement import Box
from mailsite.middleware import csp_with_mail_frame
from mailsite.webmail import listing, organize, selectors

BOX_TITLES = {box: box.label for box in (Box.INBOX, Box.ARCHIVE, Box.SPAM, Box.TRASH)}  # (lazy: the reader's language)


def folders_context(request, *, box: str = "", folder: str = "") -> dict:
    """What the folder pane shows: the user's boxes and the IMAP folders their accounts sync."""
    accounts = selectors.account_list(user=request.user)
    return {"boxes": BOX_TITLES.items(), "server_folders": listing.server_folders(accounts), "current_box": box,
            "current_folder": folder}


def _page(request, box: str, folder: str):
    if box not in listing.FOLDER_BOXES and box != Box.FOLDER:
        raise Http404("No such folder.")
    return listing.message_page(user=request.user, box=box, folder=folder, sort=request.GET.get("sort", "date"),
                                cursor=request.GET.get("after"))


def mailbox(request, box: str = Box.INBOX, folder: str = ""):
    """One folder's list: Inbox (with the accounts' poll status), Archive, Spam, Trash or an IMAP folder."""
    page = _page(request, box, folder)
    context = {
        "page": page,
        "title": folder if box == Box.FOLDER else BOX_TITLES[box],
        "latest": listing.message_latest_id(user=request.user),
        **folders_context(request, box=box, folder=folder),
    }
    if box == Box.INBOX:
        context["statuses"] = [selectors.account_status(a) for a in selectors.account_list(user=request.user)]
    response = render(request, "webmail/mailbox.html", context)
    response["Content-Security-Policy"] = csp_with_mail_frame()  # the preview pane may show an HTML part's frame
    return response


@require_GET
def mailbox_rows(request):
    """The rows and the pager of a list page (?box=&folder=&sort=&after=), server-rendered, for the page to swap
    in without reloading."""
    box, folder = request.GET.get("box", Box.INBOX), request.GET.get("folder", "")
    return render(request, "webmail/_mailbox_fragment.html", {
        "page": _page(request, box, folder), "latest": listing.message_latest_id(user=request.user),
    })


@require_POST
def messages_act(request):
    """The list's and the message page's buttons: one action on the selected messages (ids), then back."""
    action = request.POST.get("action", "")
    if action not in organize.ACTIONS and action != "empty_trash":
        return JsonResponse({"error": "unknown action"}, status=400)
    if action == "empty_trash":
        changed = organize.trash_empty(user=request.user)
    else:
        # A row's own button (its star) names its message in the URL; the toolbar acts on the ticked boxes.
        ids = [request.GET["one"]] if "one" in request.GET else request.POST.getlist("ids")
        changed = organize.messages_act(user=request.user, ids=ids, action=action)
    if request.headers.get("Accept") == "application/json":
        return JsonResponse({"changed": changed})
    if changed and action in ("archive", "trash", "spam", "inbox", "restore", "delete", "empty_trash"):
        messages.info(request, _done_text(action, changed))
    return redirect(_back(request))


def _done_text(action: str, changed: int) -> str:
    texts = {
        "archive": lambda: ngettext("%(count)d message archived.", "%(count)d messages archived.", changed),
        "trash": lambda: ngettext("%(count)d message moved to Trash.", "%(count)d messages moved to Trash.", changed),
        "spam": lambda: ngettext("%(count)d message marked as spam.", "%(count)d messages marked as spam.", changed),
        "inbox": lambda: ngettext("%(count)d message moved to Inbox.", "%(count)d messages moved to Inbox.", changed),
        "restore": lambda: ngettext("%(count)d message restored.", "%(count)d messages restored.", changed),
        "delete": lambda: ngettext("%(count)d message deleted.", "%(count)d messages deleted.", changed),
        "empty_trash": lambda: ngettext("Trash emptied: %(count)d message deleted for good.",
                                        "Trash emptied: %(count)d messages deleted for good.", changed),
    }
    return texts[action]() % {"count": changed}


def _back(request) -> str:
    """The page to return to: `next` if it is one of ours, else the inbox."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return "webmail:inbox"

