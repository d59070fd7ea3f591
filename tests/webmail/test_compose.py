import pytest
from django.urls import reverse

from spooler.models import OutboxMessage

pytestmark = pytest.mark.django_db


def post(client, account, **fields):
    data = {"account": account.id, "to": "bob@example.test", "cc": "", "subject": "Hi", "text": "Hello"}
    data.update(fields)
    return client.post(reverse("webmail:compose"), data)


def test_compose_queues_a_row_and_redirects(alice_client, alice):
    account = alice.mail_accounts.get()
    response = post(alice_client, account, to="bob@example.test, carol@example.test", subject="Grüße", text="Ça va ?")
    assert response.status_code == 302
    row = OutboxMessage.objects.get()
    assert row.user == alice and row.relay == account
    assert row.recipients == ["bob@example.test", "carol@example.test"]
    assert row.status == "queued" and row.subject == "Grüße"
    assert b"Subject: =?utf-8?" in bytes(row.body.raw).replace(b"UTF-8", b"utf-8")


def test_invalid_address_is_shown_beside_the_field_and_nothing_is_queued(alice_client, alice):
    response = post(alice_client, alice.mail_accounts.get(), to="bob@example.test, not-an-address")
    assert response.status_code == 200
    assert "“not-an-address” is not a valid e-mail address." in response.content.decode()
    assert 'id="to-error"' in response.content.decode()
    assert not OutboxMessage.objects.exists()


@pytest.mark.parametrize("subject", ["Hi\r\nBcc: victim@example.test", "Hi\nX-Evil: 1", "Hi\r"])
def test_line_break_in_subject_is_refused(alice_client, alice, subject):
    response = post(alice_client, alice.mail_accounts.get(), subject=subject)
    assert response.status_code == 200
    assert 'id="subject-error"' in response.content.decode()
    assert not OutboxMessage.objects.exists()


def test_line_break_in_recipients_is_refused(alice_client, alice):
    response = post(alice_client, alice.mail_accounts.get(), to="bob@example.test\r\nBcc: x@example.test")
    assert response.status_code == 200
    assert not OutboxMessage.objects.exists()


def test_cannot_send_from_another_users_account(alice_client, bob):
    response = post(alice_client, bob.mail_accounts.get())
    assert response.status_code == 200
    assert 'id="account-error"' in response.content.decode()
    assert not OutboxMessage.objects.exists()


def test_compose_needs_csrf(alice, bob):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = post(client, alice.mail_accounts.get())
    assert response.status_code == 403
    assert not OutboxMessage.objects.exists()


def test_outbox_lists_only_own_rows(alice_client, alice, bob, client):
    post(alice_client, alice.mail_accounts.get(), subject="from alice")
    client.force_login(bob)
    assert "from alice" not in client.get(reverse("webmail:outbox")).content.decode()
    client.force_login(alice)
    assert "from alice" in client.get(reverse("webmail:outbox")).content.decode()
