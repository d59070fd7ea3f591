"""Contacts: addresses written to and received from are collected, the user edits the list, compose suggests them."""
import pytest
from django.urls import reverse

from mailsite.mailboxes.models import Contact, Message
from mailsite.webmail.compose import contacts
from spooler.services.inbound.store import message_store

pytestmark = pytest.mark.django_db


def received(user, sender, uid):
    raw = f"From: {sender}\r\nTo: x@example.test\r\nSubject: s\r\nMessage-ID: <{uid}@x.test>\r\n\r\nHi\r\n".encode()
    return message_store(account=user.mail_accounts.get(), uid=uid, raw=raw)


def addresses(user):
    return list(contacts.contact_list(user=user).values_list("address", flat=True))


def test_addresses_written_to_become_contacts(alice_client, alice, settings):
    settings.UNDO_SEND_SECONDS = 0
    alice_client.post(reverse("webmail:compose"), {
        "account": alice.mail_accounts.get().id, "to": "bob@Example.TEST", "cc": "carol@example.test",
        "bcc": "dan@example.test", "subject": "Hi", "text": ""})
    assert addresses(alice) == ["bob@example.test", "carol@example.test", "dan@example.test"]


def test_senders_received_from_become_contacts_and_collection_resumes(alice, bob, settings, monkeypatch):
    received(alice, "Eve Example <eve@example.test>", "1")
    received(alice, "frank@example.test", "2")
    received(bob, "bobs.friend@example.test", "1")
    monkeypatch.setattr(contacts, "COLLECT_BATCH", 1)
    assert contacts.contacts_collect(user=alice) == 1 and addresses(alice) == ["eve@example.test"]
    assert contacts.contacts_collect(user=alice) == 1
    assert contacts.contacts_collect(user=alice) == 0  # nothing new: nothing read
    assert addresses(alice) == ["eve@example.test", "frank@example.test"]
    assert Contact.objects.get(user=alice, address="eve@example.test").name == "Eve Example"
    assert "bobs.friend@example.test" not in addresses(alice)


def test_collection_goes_past_senders_already_known(alice, monkeypatch):
    monkeypatch.setattr(contacts, "COLLECT_BATCH", 2)
    for uid in "12":
        received(alice, "same@example.test", uid)
    received(alice, "new@example.test", "3")
    assert contacts.contacts_collect(user=alice) == 2 and contacts.contacts_collect(user=alice) == 1
    assert addresses(alice) == ["new@example.test", "same@example.test"]


def test_a_removed_contact_is_not_collected_again(alice_client, alice):
    received(alice, "eve@example.test", "1")
    alice_client.get(reverse("webmail:contacts"))
    eve = Contact.objects.get(user=alice, address="eve@example.test")
    assert alice_client.post(reverse("webmail:contact_remove", args=[eve.id])).status_code == 302
    received(alice, "eve@example.test", "2")
    page = alice_client.get(reverse("webmail:contacts")).content.decode()
    assert "eve@example.test" not in page and addresses(alice) == []


def test_contacts_are_added_renamed_and_validated(alice_client, alice):
    response = alice_client.post(reverse("webmail:contacts"), {"address": "gina@example.test", "name": "Gina"})
    assert response.status_code == 302
    alice_client.post(reverse("webmail:contacts"), {"address": "gina@example.test", "name": "Gina G."})
    assert [(c.address, c.name) for c in contacts.contact_list(user=alice)] == [("gina@example.test", "Gina G.")]
    for data in ({"address": "gina@example.test\r\nBcc: x@example.test", "name": ""},
                 {"address": "not-an-address", "name": ""}):
        page = alice_client.post(reverse("webmail:contacts"), data).content.decode()
        assert 'id="address-error"' in page
    page = alice_client.post(reverse("webmail:contacts"), {"address": "h@example.test", "name": "H\nI"}).content.decode()
    assert 'id="name-error"' in page and Contact.objects.filter(user=alice).count() == 1


def test_another_users_contacts_are_never_shown_or_removed(alice_client, alice, bob):
    theirs = Contact.objects.create(user=bob, address="secret@example.test")
    assert "secret@example.test" not in alice_client.get(reverse("webmail:contacts")).content.decode()
    assert "secret@example.test" not in alice_client.get(reverse("webmail:compose")).content.decode()
    alice_client.post(reverse("webmail:contact_remove", args=[theirs.id]))
    theirs.refresh_from_db()
    assert not theirs.hidden


def test_compose_suggests_the_contacts_in_a_datalist(alice_client, alice):
    received(alice, "eve@example.test", "1")
    page = alice_client.get(reverse("webmail:compose")).content.decode()
    assert '<datalist id="contact-addresses"><option value="eve@example.test"></datalist>' in page
    assert page.count('list="contact-addresses"') == 3
    assert Message.objects.filter(user=alice).count() == 1
