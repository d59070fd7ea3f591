"""Pages that show mail or account data carry Cache-Control: private, no-store (mailsite.middleware.private_no_store):
every page of a signed-in user, the API's JSON, attachments and raw messages; a browser's back button or a shared
proxy keeps none of it. Public pages are not marked so."""
import pytest
from django.test import Client
from django.urls import reverse

from mailsite.api.services import api_token_create
from spooler.services.inbound.store import message_store

pytestmark = pytest.mark.django_db
NO_STORE = "private, no-store"


@pytest.fixture
def stored(alice):
    raw = ("From: Ann <ann@example.test>\r\nTo: alice@example.test\r\nSubject: Payslip\r\nMIME-Version: 1.0\r\n"
           "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nYour pay\r\n"
           "--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=pay.pdf\r\n\r\n"
           "%PDF-1.4 x\r\n--b--\r\n")
    return message_store(account=alice.mail_accounts.get(), uid="1", raw=raw.encode())


def test_every_signed_in_page_that_shows_mail_or_account_data(alice_client, stored):
    attachment = stored.attachments.get()
    urls = [reverse("webmail:inbox"), reverse("webmail:message", args=[stored.id]),
            reverse("webmail:search") + "?q=payslip", reverse("webmail:contacts"), reverse("webmail:compose"),
            reverse("webmail:outbox"), reverse("webmail:accounts"), reverse("settings"), reverse("two_factor"),
            reverse("webmail:inbox_rows"), reverse("webmail:status"),
            reverse("webmail:attachment", args=[attachment.id]),
            reverse("webmail:message_original", args=[stored.id])]
    for url in urls:
        response = alice_client.get(url)
        assert response.status_code == 200, url
        assert response["Cache-Control"] == NO_STORE, url
    assert b"Payslip" in alice_client.get(reverse("webmail:inbox")).content


def test_a_redirect_and_an_error_page_of_a_signed_in_user_too(alice_client):
    missing = alice_client.get(reverse("webmail:message", args=[999999]))
    assert missing.status_code == 404 and missing["Cache-Control"] == NO_STORE


def test_the_api_json(alice):
    token = api_token_create(user=alice, name="t")[1]
    response = Client().get("/api/v1/messages", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    assert response["Cache-Control"] == NO_STORE


def test_public_pages_are_left_alone(client):
    contact = client.get(reverse("formmail:contact"))
    assert contact.status_code == 200 and "no-store" not in contact.get("Cache-Control", "")
