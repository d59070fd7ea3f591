"""Drafts: kept as typed, so that nothing written is lost. The only checks are line breaks in header fields
(stripped: they would be refused on sending anyway) and the size (DRAFT_MAX_BYTES), so that a draft with an invalid
address, or half an address, is still kept. Every query is scoped to the user."""
import re

from django.conf import settings
from django.shortcuts import get_object_or_404
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from mailsite.mailboxes.models import Draft, DraftAttachment, MailAccount, Message
from mailsite.mailboxes.outgoing import OutgoingMail

HEADER_FIELDS = ("to", "cc", "bcc", "subject", "in_reply_to", "references")
FIELDS = (*HEADER_FIELDS, "text")
_CONTROLS = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")
_LIMITS = {"subject": 998, "in_reply_to": 998}


class DraftTooLarge(ValueError):
    pass


def draft_fields(values, *, capped: bool = True) -> dict:
    """The draft's fields from what the page posted: header fields on one line, NUL out of the text (no database
    column holds it everywhere). Raises DraftTooLarge over DRAFT_MAX_BYTES together."""
    fields = {}
    for name in FIELDS:
        value = str(values.get(name) or "")
        if name in HEADER_FIELDS:
            value = " ".join(_CONTROLS.sub(" ", value).split())
        else:
            value = value.replace("\x00", "")
        fields[name] = value
    size = sum(len(value.encode("utf-8", "surrogatepass")) for value in fields.values())
    too_long = any(len(fields[name]) > limit for name, limit in _LIMITS.items())
    if capped and (size > settings.DRAFT_MAX_BYTES or too_long):
        raise DraftTooLarge(_("This draft is too large to keep (%(size)s; at most %(limit)s).")
                            % {"size": filesizeformat(size), "limit": filesizeformat(settings.DRAFT_MAX_BYTES)})
    return fields


def draft_list(*, user):
    return Draft.objects.filter(user=user).select_related("account")


def draft_get(*, user, draft_id: int) -> Draft:
    return get_object_or_404(Draft.objects.select_related("account"), id=draft_id, user=user)


def _account(user, account_id) -> MailAccount | None:
    try:  # (a From list value: "5", or "5:7" for one of its identities; a draft keeps the account)
        return MailAccount.objects.filter(user=user, id=int(str(account_id).split(":", 1)[0])).first()
    except (TypeError, ValueError):
        return None


def _message(user, message_id) -> Message | None:
    try:
        return Message.objects.filter(user=user, id=int(message_id)).first()
    except (TypeError, ValueError):
        return None


def draft_save(*, user, draft_id: int | None, account_id, values) -> Draft:
    """Create or update the user's draft (another user's id: 404, never theirs changed). The account and the
    message forwarded as an attachment are kept only if they are the user's."""
    fields = draft_fields(values)
    draft = draft_get(user=user, draft_id=draft_id) if draft_id else Draft(user=user)
    for name, value in fields.items():
        setattr(draft, name, value)
    draft.account = _account(user, account_id)
    draft.forward_attached = _message(user, values.get("forward_attached"))
    draft.save()
    return draft


def draft_delete(*, user, draft_id: int) -> int:
    count, _by_model = Draft.objects.filter(user=user, id=draft_id).delete()
    return count


def draft_from_outgoing(*, user, account: MailAccount | None, mail: OutgoingMail) -> Draft:
    """A draft holding a message taken back from the spool (undo send)."""
    values = {"to": ", ".join(mail.to), "cc": ", ".join(mail.cc), "bcc": ", ".join(mail.bcc),
              "subject": mail.subject, "text": mail.text, "in_reply_to": mail.in_reply_to,
              "references": " ".join(mail.references)}
    draft = Draft(user=user, account=account, **draft_fields(values, capped=False))  # (it was sendable)
    draft.save()
    DraftAttachment.objects.bulk_create([
        DraftAttachment(draft=draft, filename=name[:255], content_type=ctype[:255], data=data, size=len(data))
        for name, ctype, data in mail.attachments
    ])
    return draft


def draft_attachments(*, user, draft_id) -> list[DraftAttachment]:
    """The files kept with the user's draft (none for another user's draft or no draft)."""
    try:
        draft_id = int(draft_id)
    except (TypeError, ValueError):
        return []
    return list(DraftAttachment.objects.filter(draft__user=user, draft_id=draft_id).defer("data"))


def draft_attachment_parts(*, user, draft_id: int, ids) -> list[tuple[str, str, bytes]]:
    """(filename, content type, bytes) of the kept files chosen, the user's own only."""
    rows = DraftAttachment.objects.filter(draft__user=user, draft_id=draft_id, id__in=list(ids))
    return [(row.filename, row.content_type, bytes(row.data)) for row in rows]


def draft_initial(draft: Draft) -> dict:
    """The compose form's initial values for a draft."""
    initial = {name: getattr(draft, name) for name in FIELDS}
    initial["draft"] = draft.id
    if draft.forward_attached_id:
        initial["forward_attached"] = draft.forward_attached_id
    if draft.account_id:
        initial["account"] = draft.account_id
    return initial
