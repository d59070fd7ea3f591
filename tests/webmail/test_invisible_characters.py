"""Direction overrides and other invisible formatting characters in names and subjects from mail are removed from
what pages show (at store time, and by the templates for rows stored before): a From name with U+202E cannot show
"exe.pdf" for "fdp.exe". The raw message keeps them."""
from email import message_from_bytes, policy
from email.header import Header

import pytest
from django.urls import reverse

from mailsite.mailboxes.display import invisible_strip
from mailsite.mailboxes.models import Message
from mailsite.webmail.compose.contacts import contact_save
from spooler.services.inbound.store import message_store

pytestmark = pytest.mark.django_db
RLO = "\u202e"
HOSTILE_NAME = f"Bank{RLO}cod.exe"
HOSTILE_SUBJECT = f"Invoice \u2066urgent\u2069 {RLO}fdp.exe\u200f"
INVISIBLE = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\u200e",
             "\u200f", "\u061c"]


def hostile(alice, uid="1"):
    raw = (f"From: {Header(HOSTILE_NAME, 'utf-8').encode()} <bank@example.test>\r\nTo: alice@example.test\r\n"
           f"Subject: {Header(HOSTILE_SUBJECT, 'utf-8').encode()}\r\n\r\nPay now\r\n")
    return message_store(account=alice.mail_accounts.get(), uid=uid, raw=raw.encode())


def shows_none(html: bytes) -> bool:
    text = html.decode()
    return not any(ch in text for ch in INVISIBLE)


def test_every_listed_character_is_removed_and_joiners_stay():
    assert invisible_strip("a" + "".join(INVISIBLE) + "b") == "ab"
    assert invisible_strip("👩\u200d💻 and ب\u200cب") == "👩\u200d💻 and ب\u200cب"  # (emoji and Persian need them)


def test_stored_fields_are_clean_and_the_raw_message_is_not(alice):
    message = hostile(alice)
    assert "Bankcod.exe" in message.sender and RLO not in message.sender
    assert message.subject == "Invoice urgent fdp.exe"
    kept = message_from_bytes(Message.objects.get(id=message.id).raw, policy=policy.default)
    assert RLO in str(kept["From"]) and RLO in str(kept["Subject"])


def test_list_message_page_search_and_contacts_show_none(alice_client, alice):
    message = hostile(alice)
    for url in (reverse("webmail:inbox"), reverse("webmail:message", args=[message.id]),
                reverse("webmail:search") + "?q=invoice", reverse("webmail:conversation", args=[message.id])):
        response = alice_client.get(url)
        assert response.status_code == 200 and b"Invoice urgent fdp.exe" in response.content, url
        assert shows_none(response.content), url
    alice_client.get(reverse("webmail:compose"))  # (collects senders into the contacts)
    contact_save(user=alice, address="eve@example.test", name=f"Eve{RLO}lin")
    page = alice_client.get(reverse("webmail:contacts"))
    assert b"Evelin" in page.content and shows_none(page.content)


def test_rows_stored_before_are_shown_clean(alice_client, alice):
    message = hostile(alice)
    Message.objects.filter(id=message.id).update(sender=f"{HOSTILE_NAME} <bank@example.test>",
                                                 subject=HOSTILE_SUBJECT)
    for url in (reverse("webmail:inbox"), reverse("webmail:message", args=[message.id])):
        response = alice_client.get(url)
        assert b"Bankcod.exe" in response.content and shows_none(response.content), url
