"""What the compose form starts with: a new message (with the account's signature), a reply, a reply to all, a
forward (inline or as an attachment), or a draft. The original is always one of the user's messages (selectors
scope it: another user's id is a 404)."""
from django.utils import timezone

from mailsite.webmail import selectors
from mailsite.webmail.compose import replies
from mailsite.webmail.compose.drafts import draft_get, draft_initial

MODES = ("reply", "reply_all", "forward", "forward_attached")


def positive_id(value) -> int | None:
    """A row id from a query or form value; None for anything else."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def compose_initial(*, user, query, accounts) -> tuple[dict, dict]:
    """(the form's initial values, what else the page shows) for the compose page's query string."""
    draft_id = positive_id(query.get("draft"))
    if draft_id:
        draft = draft_get(user=user, draft_id=draft_id)
        attached = draft.forward_attached
        return draft_initial(draft), ({"forwarded": _forwarded(attached)} if attached else {})
    for mode in MODES:
        message_id = positive_id(query.get(mode))
        if message_id:
            message = selectors.message_get(user=user, message_id=message_id)
            return _answer(mode, message, user=user, accounts=accounts)
    account = accounts.first()
    return {"text": replies.with_signature("", account.signature if account else "")}, {}


def _answer(mode: str, message, *, user, accounts) -> tuple[dict, dict]:
    account = message.account if message.account.user_id == user.id else accounts.first()
    own = [a.address for a in accounts]
    date = timezone.localtime(message.date) if message.date else None
    initial, extra = {"account": account.id if account else None}, {}
    if mode in ("reply", "reply_all"):
        to, cc = replies.reply_recipients(sender=message.sender, to=message.to, cc=message.cc, own=own,
                                          everyone=mode == "reply_all")
        in_reply_to, references = replies.thread_ids(
            message_id=message.message_id, references=message.references, in_reply_to=message.in_reply_to)
        text = "\n\n" + replies.quoted(text=message.text, sender=message.sender, date=date)
        initial.update(to=", ".join(to), cc=", ".join(cc), subject=replies.reply_subject(message.subject),
                       in_reply_to=in_reply_to, references=" ".join(references))
    elif mode == "forward":
        text = "\n\n" + replies.forwarded(text=message.text, sender=message.sender, date=date,
                                          subject=message.subject, to=message.to, cc=message.cc)
        initial.update(subject=replies.forward_subject(message.subject))
    else:
        text = ""
        initial.update(subject=replies.forward_subject(message.subject), forward_attached=message.id)
        extra["forwarded"] = _forwarded(message)
    initial["text"] = replies.with_signature(text, account.signature if account else "")
    return initial, extra


def _forwarded(message) -> dict:
    return {"name": replies.attachment_name(message.subject), "size": message.size}
