"""Reply, reply all, forward inline and forward as an attachment: the compose page prefilled from one of the
user's stored messages (another user's id is a 404), and the thread headers on the message sent."""
import email
import email.policy

import pytest
from django.urls import reverse

from spooler.models import OutboxMessage
from spooler.services.inbound.store import message_store
from spooler.services.outbound.enqueue import outbox_raw

pytestmark = pytest.mark.django_db

ORIGINAL = (
    b"From: Bob <bob@example.test>\r\n"
    b"To: Alice <alice@example.test>, carol@example.test\r\n"
    b"Cc: dan@example.test, alice@example.test\r\n"
    b"Subject: Re: Lunch on Friday\r\n"
    b"Date: Tue, 01 Dec 2026 09:30:00 +0000\r\n"
    b"Message-ID: <lunch-2@example.test>\r\n"
    b"In-Reply-To: <lunch-1@example.test>\r\n"
    b"References: <lunch-1@example.test>\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"\r\n"
    b"Shall we meet at noon?\r\nBob\r\n"
)


@pytest.fixture(autouse=True)
def _no_undo(settings):
    settings.UNDO_SEND_SECONDS = 0


@pytest.fixture
def original(alice):
    return message_store(account=alice.mail_accounts.get(), uid="1", raw=ORIGINAL)


def initial(client, **query):
    response = client.get(reverse("webmail:compose"), query)
    assert response.status_code == 200
    form = response.context["form"]
    return {name: form[name].value() for name in form.fields}, response.content.decode()


def test_reply_prefills_the_sender_the_subject_and_the_quote(alice_client, original):
    values, _page = initial(alice_client, reply=original.id)
    assert values["to"] == "bob@example.test" and values["cc"] in ("", None)
    assert values["subject"] == "Re: Lunch on Friday"  # not "Re: Re:"
    assert values["in_reply_to"] == "<lunch-2@example.test>"
    assert values["references"] == "<lunch-1@example.test> <lunch-2@example.test>"
    assert "On Tue, 01 Dec 2026 at 09:30, Bob <bob@example.test> wrote:\n> Shall we meet at noon?\n> Bob\n" in values["text"]
    assert values["account"] == original.account_id


def test_reply_all_prefills_to_and_cc_without_the_users_own_address(alice_client, original):
    values, _page = initial(alice_client, reply_all=original.id)
    assert values["to"] == "bob@example.test, carol@example.test"
    assert values["cc"] == "dan@example.test"


def test_forward_inline_quotes_the_original_with_its_headers(alice_client, original):
    values, _page = initial(alice_client, forward=original.id)
    assert values["to"] in ("", None) and values["subject"] == "Fwd: Re: Lunch on Friday"
    assert "---------- Forwarded message ----------\nFrom: Bob <bob@example.test>" in values["text"]
    assert "Shall we meet at noon?" in values["text"] and not values["in_reply_to"]


def test_forward_as_attachment_names_the_message_it_attaches(alice_client, original):
    values, page = initial(alice_client, forward_attached=original.id)
    assert values["forward_attached"] == original.id and values["subject"] == "Fwd: Re: Lunch on Friday"
    assert "Attached: Re_ Lunch on Friday.eml" in page


@pytest.mark.parametrize("mode", ["reply", "reply_all", "forward", "forward_attached"])
def test_another_users_message_is_404(client, bob, original, mode):
    client.force_login(bob)
    assert client.get(reverse("webmail:compose"), {mode: original.id}).status_code == 404


def test_the_reply_sent_carries_in_reply_to_and_references(alice_client, alice, original):
    values, _page = initial(alice_client, reply_all=original.id)
    data = {name: value for name, value in values.items() if value is not None and name != "attachments"}
    assert alice_client.post(reverse("webmail:compose"), data).status_code == 302
    sent = email.message_from_bytes(outbox_raw(OutboxMessage.objects.get()), policy=email.policy.default)
    assert sent["In-Reply-To"] == "<lunch-2@example.test>"
    assert sent["References"] == "<lunch-1@example.test> <lunch-2@example.test>"
    assert sent["Subject"] == "Re: Lunch on Friday"
    assert [a.addr_spec for a in sent["To"].addresses] == ["bob@example.test", "carol@example.test"]
    assert "> Shall we meet at noon?" in sent.get_body(("plain",)).get_content()


def test_forward_as_attachment_sends_the_original_bytes_as_message_rfc822(alice_client, alice, original):
    data = {"account": original.account_id, "to": "eve@example.test", "subject": "Fwd: Lunch", "text": "See below",
            "forward_attached": original.id}
    assert alice_client.post(reverse("webmail:compose"), data).status_code == 302
    sent = email.message_from_bytes(outbox_raw(OutboxMessage.objects.get()), policy=email.policy.default)
    [part] = sent.iter_attachments()
    assert part.get_content_type() == "message/rfc822"
    inner = part.get_content()
    assert inner["Message-ID"] == "<lunch-2@example.test>" and inner["Subject"] == "Re: Lunch on Friday"
    assert ORIGINAL in outbox_raw(OutboxMessage.objects.get())  # its bytes as stored (ASCII: sent 7bit)


def test_forwarding_another_users_message_as_attachment_is_404(client, bob, original):
    client.force_login(bob)
    data = {"account": bob.mail_accounts.get().id, "to": "eve@example.test", "subject": "x", "text": "",
            "forward_attached": original.id}
    assert client.post(reverse("webmail:compose"), data).status_code == 404
    assert not OutboxMessage.objects.exists()


def test_the_forwarded_message_counts_towards_the_attachment_limit(alice_client, original, settings):
    settings.COMPOSE_MAX_ATTACHMENT_BYTES = 100
    data = {"account": original.account_id, "to": "eve@example.test", "subject": "Fwd", "text": "",
            "forward_attached": original.id}
    response = alice_client.post(reverse("webmail:compose"), data)
    assert response.status_code == 200 and 'id="attachments-error"' in response.content.decode()
    assert not OutboxMessage.objects.exists()


def test_the_reply_starts_with_the_signature_under_the_quote(alice_client, alice, original):
    alice.mail_accounts.update(signature="Alice")
    values, _page = initial(alice_client, reply=original.id)
    assert values["text"].startswith("\n\nOn ") and values["text"].endswith("> Bob\n\n-- \nAlice\n")
