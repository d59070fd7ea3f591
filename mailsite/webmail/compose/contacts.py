"""Contacts: every address the user wrote to or got mail from, and those they added; a list they can edit (a removed
one is hidden, so that it is not collected again). Collection from received mail goes on from where it stopped,
COLLECT_BATCH messages at a time, so its cost does not grow with the mailbox."""
from email.utils import getaddresses

from django.db import transaction
from django.db.models import Max

from mailsite.mailboxes.display import invisible_strip
from mailsite.mailboxes.models import Contact, Message
from mailsite.mailboxes.placement import Box

COLLECT_BATCH = 500
MAX_SUGGESTIONS = 1000
_MARK = ""  # the address of the row that only remembers how far collection got


def _key(address: str) -> str:
    local, _, domain = address.strip().rpartition("@")
    return f"{local}@{domain.lower()}" if local else ""


def contacts_note(*, user, addresses, source_message_id=None) -> None:
    """Remember addresses written to (or pairs (name, address) received from); those known are left as they are."""
    rows, seen = [], set()
    for item in addresses:
        name, address = item if isinstance(item, tuple) else ("", item)
        key = _key(address)
        if key and len(key) <= 320 and key not in seen:
            seen.add(key)
            rows.append(Contact(user=user, address=key, name=" ".join(invisible_strip(name).split())[:200],
                                source_message_id=source_message_id))
    Contact.objects.bulk_create(rows, ignore_conflicts=True)


def contacts_collect(*, user) -> int:
    """Add the senders of the user's messages stored since the last collection (spam aside). Returns how many
    messages were read."""
    done = Contact.objects.filter(user=user).aggregate(last=Max("source_message_id"))["last"] or 0
    batch = list(Message.objects.filter(user=user, id__gt=done).exclude(box=Box.SPAM)
                 .order_by("id").values_list("id", "sender")[:COLLECT_BATCH])
    if not batch:
        return 0
    with transaction.atomic():
        for message_id, sender in batch:
            pairs = [(n, a) for n, a in getaddresses([" ".join(sender.split())]) if "@" in a]
            contacts_note(user=user, addresses=pairs[:1], source_message_id=message_id)
        mark, _ = Contact.objects.get_or_create(user=user, address=_MARK, defaults={"hidden": True})
        Contact.objects.filter(id=mark.id).update(source_message_id=batch[-1][0])
    return len(batch)


def contact_list(*, user):
    return Contact.objects.filter(user=user, hidden=False).exclude(address=_MARK)


def contact_save(*, user, address: str, name: str) -> Contact:
    """Add a contact, or rename one (shown again if it was removed)."""
    contact, _ = Contact.objects.update_or_create(user=user, address=_key(address),
                                                  defaults={"name": invisible_strip(name), "hidden": False})
    return contact


def contact_remove(*, user, contact_id: int) -> int:
    return Contact.objects.filter(user=user, id=contact_id).exclude(address=_MARK).update(hidden=True)


def contact_suggestions(*, user) -> list[str]:
    """The addresses the compose page suggests (collecting first what arrived since)."""
    contacts_collect(user=user)
    return list(contact_list(user=user).values_list("address", flat=True)[:MAX_SUGGESTIONS])
