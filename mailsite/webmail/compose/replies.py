"""Replies and forwards, as pure functions of the original's fields: subjects, recipients, quoting, thread ids.

No database here: the compose page gives these the stored message's fields and puts the result in the form, where
the user can change anything before sending. The words of a quote or a forward, and their dates, are in the writer's
language and zone (Django's active ones).
"""
import re
from datetime import datetime
from email.utils import getaddresses

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

# "Re:", "RE :", "Re[2]:", "Re(3):", and the usual translations of it (AW, SV, Antw…) at the start of a subject.
_REPLY_PREFIX = re.compile(r"^\s*(?:re|aw|sv|antw|vs|ref)\s*(?:\[\d+\]|\(\d+\))?\s*:\s*", re.I)
_FORWARD_PREFIX = re.compile(r"^\s*(?:fwd?|wg|tr|rv|i)\s*(?:\[\d+\]|\(\d+\))?\s*:\s*", re.I)
_MSG_ID = re.compile(r"<[^<>\s]+>")
_CONTROLS = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")
MAX_REFERENCES = 20


def _one_line(text: str) -> str:
    return " ".join(_CONTROLS.sub(" ", text or "").split())


def reply_subject(subject: str) -> str:
    """"Re: " and the subject, without stacking: "Re: Re: Hi" and "RE: Hi" both answer as "Re: Hi"."""
    rest = _one_line(subject)
    while match := _REPLY_PREFIX.match(rest):
        rest = rest[match.end():]
    return f"Re: {rest}" if rest else "Re:"


def forward_subject(subject: str) -> str:
    """"Fwd: " and the subject, without stacking ("Fwd: Fw: Hi" → "Fwd: Hi")."""
    rest = _one_line(subject)
    while match := _FORWARD_PREFIX.match(rest):
        rest = rest[match.end():]
    return f"Fwd: {rest}" if rest else "Fwd:"


def addresses(header: str) -> list[str]:
    """The bare addresses of an address-list header as stored ("Bob <bob@x>, c@y" → ["bob@x", "c@y"])."""
    found = []
    for _name, addr in getaddresses([_one_line(header)]):
        if "@" in addr and addr.lower() not in {a.lower() for a in found}:
            found.append(addr)
    return found


def _without(items: list[str], drop) -> list[str]:
    kept, seen = [], {a.lower() for a in drop}
    for item in items:
        if item.lower() not in seen:
            seen.add(item.lower())
            kept.append(item)
    return kept


def reply_recipients(*, sender: str, to: str, cc: str, own: list[str], everyone: bool) -> tuple[list[str], list[str]]:
    """(To, Cc) of a reply. Reply: the sender. Reply all: the sender and the original To in To, the original Cc in
    Cc, the user's own addresses dropped (but a message from oneself answers its To, as mail clients do)."""
    from_ = addresses(sender)
    if from_ and from_[0].lower() in {a.lower() for a in own}:
        reply_to = _without(addresses(to), own) or from_
    else:
        reply_to = from_
    if not everyone:
        return reply_to, []
    reply_to = _without(reply_to + addresses(to), own)
    return reply_to, _without(addresses(cc), own + reply_to)


def thread_ids(*, message_id: str, references: str, in_reply_to: str = "") -> tuple[str, list[str]]:
    """(In-Reply-To, References) of an answer: the original's id, and its References (else its In-Reply-To) then
    its id, the oldest dropped beyond MAX_REFERENCES but the first kept (RFC 5322 3.6.4)."""
    own = _MSG_ID.findall(message_id or "")
    if not own:
        return "", []
    chain = _MSG_ID.findall(references or "") or _MSG_ID.findall(in_reply_to or "")[:1]
    chain = [ref for ref in dict.fromkeys(chain) if ref != own[0]] + [own[0]]
    if len(chain) > MAX_REFERENCES:
        chain = [chain[0], *chain[-(MAX_REFERENCES - 1):]]
    return own[0], chain


def _date(date: datetime | None) -> str:
    """In the writer's language and zone (a quote is written for the people the writer writes to)."""
    if not date:
        return _("an unknown date")
    local = timezone.localtime(date) if timezone.is_aware(date) else date
    return date_format(local, pgettext("date format: the original's date in a reply or forward", r"D, d M Y \a\t H:i"))


def quoted(*, text: str, sender: str, date: datetime | None) -> str:
    """"On <date>, <sender> wrote:" and the original's lines, each after "> " (">" before an empty line or an
    already quoted one, so that "> > " stays tidy)."""
    lines = (text or "").replace("\r\n", "\n").replace("\r", "\n").rstrip("\n").split("\n")
    body = "\n".join((">" + line) if not line or line.startswith(">") else ("> " + line) for line in lines)
    return _("On %(date)s, %(sender)s wrote:") % {"date": _date(date), "sender": _one_line(sender) or _("someone")} \
        + f"\n{body}\n"


def forwarded(*, text: str, sender: str, date: datetime | None, subject: str, to: str, cc: str = "") -> str:
    """The original inline, under a header block as mail clients write it."""
    head = [_("---------- Forwarded message ----------"), _("From: %s") % _one_line(sender),
            _("Date: %s") % _date(date), _("Subject: %s") % _one_line(subject), _("To: %s") % _one_line(to)]
    if cc:
        head.append(_("Cc: %s") % _one_line(cc))
    return "\n".join(head) + "\n\n" + (text or "").replace("\r\n", "\n").rstrip("\n") + "\n"


def with_signature(text: str, signature: str) -> str:
    """The text with the signature under it, after the "-- " line (RFC 3676 4.3); the text alone if none."""
    signature = (signature or "").replace("\r\n", "\n").strip("\n")
    if not signature:
        return text
    return f"{text.rstrip(chr(10))}\n\n-- \n{signature}\n" if text.strip() else f"\n\n-- \n{signature}\n"


def attachment_name(subject: str) -> str:
    """The file name of a message forwarded as an attachment."""
    name = re.sub(r'[\\/:*?"<>|]', "_", _one_line(subject)).strip(" .")[:80]
    return f"{name or 'message'}.eml"
