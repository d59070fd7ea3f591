"""Drafts: saved as typed (JSON endpoint), kept with an invalid address, line breaks stripped, size capped, scoped to
the user; listed, opened in compose, deleted; removed once sent."""
import pytest
from django.test import Client
from django.urls import reverse

from mailsite.mailboxes.models import Draft
from spooler.models import OutboxMessage

pytestmark = pytest.mark.django_db


def save(client, **fields):
    return client.post(reverse("webmail:draft_save"), fields)


def test_a_draft_is_saved_and_updated_in_place(alice_client, alice):
    account = alice.mail_accounts.get()
    response = save(alice_client, account=account.id, to="bob@example.test", subject="Plans", text="First")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    draft_id = response.json()["id"]
    response = save(alice_client, draft=draft_id, account=account.id, to="bob@example.test", subject="Plans",
                    text="First\nSecond")
    assert response.json()["id"] == draft_id
    draft = Draft.objects.get()
    assert (draft.user, draft.account, draft.text) == (alice, account, "First\nSecond")


def test_a_draft_with_an_invalid_address_is_still_kept(alice_client, alice):
    response = save(alice_client, to="bob@, not an address;;", cc="carol@", bcc="@@", subject="Half typed")
    assert response.status_code == 200
    draft = Draft.objects.get(id=response.json()["id"])
    assert (draft.to, draft.cc, draft.bcc) == ("bob@, not an address;;", "carol@", "@@")


def test_line_breaks_in_a_drafts_header_fields_are_stripped_and_the_text_kept(alice_client):
    response = save(alice_client, to="bob@example.test\r\nBcc: victim@example.test", subject="Hi\u2028there\n",
                    in_reply_to="<a@x.test>\r\n", text="Line one\nLine two\n")
    draft = Draft.objects.get(id=response.json()["id"])
    assert draft.to == "bob@example.test Bcc: victim@example.test" and draft.subject == "Hi there"
    assert draft.in_reply_to == "<a@x.test>" and draft.text == "Line one\nLine two\n"


def test_a_draft_over_the_size_cap_is_refused_and_nothing_stored(alice_client, settings):
    settings.DRAFT_MAX_BYTES = 1000
    response = save(alice_client, to="bob@example.test", text="x" * 1001)
    assert response.status_code == 413 and "too large" in response.json()["error"]
    assert not Draft.objects.exists()


def test_another_users_draft_cannot_be_saved_over_opened_or_deleted(alice_client, alice, bob):
    theirs = Draft.objects.create(user=bob, subject="Bob's secret", text="private")
    assert save(alice_client, draft=theirs.id, subject="overwritten").status_code == 404
    assert alice_client.get(reverse("webmail:compose"), {"draft": theirs.id}).status_code == 404
    alice_client.post(reverse("webmail:draft_delete", args=[theirs.id]))
    theirs.refresh_from_db()
    assert theirs.subject == "Bob's secret"
    assert "Bob's secret" not in alice_client.get(reverse("webmail:drafts")).content.decode()


def test_an_account_of_another_user_is_not_kept_on_a_draft(alice_client, bob):
    response = save(alice_client, account=bob.mail_accounts.get().id, subject="x")
    assert Draft.objects.get(id=response.json()["id"]).account is None


def test_drafts_are_listed_opened_and_deleted(alice_client, alice):
    draft = Draft.objects.create(user=alice, account=alice.mail_accounts.get(), to="bob@example.test, oops@",
                                 subject="Unfinished", text="Dear Bob,")
    page = alice_client.get(reverse("webmail:drafts")).content.decode()
    assert "Unfinished" in page and f"?draft={draft.id}" in page
    form = alice_client.get(reverse("webmail:compose"), {"draft": draft.id}).context["form"]
    assert form["to"].value() == "bob@example.test, oops@" and form["text"].value() == "Dear Bob,"
    assert form["draft"].value() == draft.id
    response = alice_client.post(reverse("webmail:draft_delete", args=[draft.id]))
    assert response.status_code == 302 and not Draft.objects.exists()


def test_a_draft_that_is_sent_is_removed(alice_client, alice, settings):
    settings.UNDO_SEND_SECONDS = 0
    draft = Draft.objects.create(user=alice, to="bob@example.test", subject="Ready")
    data = {"account": alice.mail_accounts.get().id, "to": "bob@example.test", "subject": "Ready", "text": "Go",
            "draft": draft.id}
    assert alice_client.post(reverse("webmail:compose"), data).status_code == 302
    assert OutboxMessage.objects.get().subject == "Ready" and not Draft.objects.exists()


def test_a_draft_whose_send_fails_validation_is_kept(alice_client, alice):
    draft = Draft.objects.create(user=alice, to="oops@", subject="Not yet")
    data = {"account": alice.mail_accounts.get().id, "to": "oops@", "subject": "Not yet", "draft": draft.id}
    response = alice_client.post(reverse("webmail:compose"), data)
    assert response.status_code == 200 and 'id="to-error"' in response.content.decode()
    assert Draft.objects.filter(id=draft.id).exists() and not OutboxMessage.objects.exists()


def test_saving_a_draft_needs_csrf_and_post(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.get(reverse("webmail:draft_save")).status_code == 405
    assert client.post(reverse("webmail:draft_save"), {"subject": "x"}).status_code == 403
    assert not Draft.objects.exists()


def test_the_compose_page_loads_the_autosave_script_with_the_endpoint(alice_client):
    page = alice_client.get(reverse("webmail:compose")).content.decode()
    assert 'src="/static/js/compose.js"' in page and f'data-draft-url="{reverse("webmail:draft_save")}"' in page


def test_a_message_forwarded_as_attachment_stays_on_the_draft_if_it_is_the_users(alice_client, alice, bob):
    from spooler.services.inbound.store import message_store

    raw = b"From: x@example.test\r\nTo: y@example.test\r\nSubject: Minutes\r\nMessage-ID: <m@x.test>\r\n\r\nText\r\n"
    mine = message_store(account=alice.mail_accounts.get(), uid="1", raw=raw)
    theirs = message_store(account=bob.mail_accounts.get(), uid="1", raw=raw)
    kept = Draft.objects.get(id=save(alice_client, subject="Fwd: Minutes", forward_attached=mine.id).json()["id"])
    assert kept.forward_attached == mine
    response = alice_client.get(reverse("webmail:compose"), {"draft": kept.id})
    assert response.context["form"]["forward_attached"].value() == mine.id
    assert "Attached: Minutes.eml" in response.content.decode()
    dropped = Draft.objects.get(id=save(alice_client, subject="x", forward_attached=theirs.id).json()["id"])
    assert dropped.forward_attached is None
