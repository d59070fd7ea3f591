import email
import email.policy
import html

import pytest
from django.urls import reverse

from mailsite.mailboxes.models import MailAccount
from spooler.models import OutboxMessage
from spooler.services.outbound import smtp_connections
from spooler.services.outbound import delivery
from spooler.services.outbound.enqueue import outbox_raw

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
    assert "“not-an-address” is not a valid e-mail address: it needs an @ and a domain." in response.content.decode()
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


# --- what the user types: each reported 500, and its neighbours ------------------------------------------


def queued_headers(row):
    return email.message_from_bytes(outbox_raw(row), policy=email.policy.default)


@pytest.mark.parametrize("separator", ["\u2028", "\x85", "\x0b", "\x0c", "\u2029", "\x1c", "\x1d", "\x1e",
                                       "\x00", "\x1b", "\x7f", "\x9f"])
def test_line_separators_and_controls_in_the_subject_are_refused_beside_it(alice_client, alice, separator):
    response = post(alice_client, alice.mail_accounts.get(), subject=f"Hi{separator}Bcc: victim@example.test")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="subject-error"' in page and "Line breaks and control characters are not allowed here" in page
    assert not OutboxMessage.objects.exists()


def test_the_subject_error_names_the_character(alice_client, alice):
    page = post(alice_client, alice.mail_accounts.get(), subject="a\u2028b").content.decode()
    assert "U+2028 LINE SEPARATOR" in page


def test_a_tab_in_the_subject_becomes_a_space(alice_client, alice):
    assert post(alice_client, alice.mail_accounts.get(), subject="\tHi\tthere ").status_code == 302
    row = OutboxMessage.objects.get()
    assert row.subject == "Hi there" and queued_headers(row)["Subject"] == "Hi there"


@pytest.mark.parametrize("field", ["to", "cc"])
@pytest.mark.parametrize("separator", ["\u2028", "\x85", "\x0b", "\x0c", "\r\n", "\x00"])
def test_line_separators_in_addresses_are_refused_beside_the_field(alice_client, alice, field, separator):
    response = post(alice_client, alice.mail_accounts.get(), **{field: f"bob@example.test{separator}"})
    assert response.status_code == 200 and f'id="{field}-error"' in response.content.decode()
    assert not OutboxMessage.objects.exists()


def test_a_quoted_local_part_is_sent_as_the_same_mailbox(alice_client, alice):
    assert post(alice_client, alice.mail_accounts.get(), to='"bob"@example.test').status_code == 302
    row = OutboxMessage.objects.get()
    assert row.recipients == ["bob@example.test"]  # the quotes were not needed (RFC 5321 4.1.2)
    assert [a.addr_spec for a in queued_headers(row)["To"].addresses] == ["bob@example.test"]


def test_a_quoted_local_part_that_needs_its_quotes_keeps_them(alice_client, alice):
    to = '"Doe, John"@example.test, "john doe"@example.test; carol@example.test'
    assert post(alice_client, alice.mail_accounts.get(), to=to).status_code == 302
    row = OutboxMessage.objects.get()
    assert row.recipients == ['"Doe, John"@example.test', '"john doe"@example.test', "carol@example.test"]
    assert [a.username for a in queued_headers(row)["To"].addresses] == ["Doe, John", "john doe", "carol"]


@pytest.mark.parametrize("typed,sent", [
    ("bob@[127.0.0.1]", "bob@[127.0.0.1]"),
    ("bob@[IPv6:2001:db8::1]", "bob@[IPv6:2001:db8::1]"),
    ("bob@[::1]", "bob@[IPv6:::1]"),
])
def test_an_address_literal_is_accepted(alice_client, alice, typed, sent):
    assert post(alice_client, alice.mail_accounts.get(), to=typed).status_code == 302
    row = OutboxMessage.objects.get()
    assert row.recipients == [sent] and queued_headers(row)["To"].addresses[0].domain == sent.partition("@")[2]


def test_an_international_domain_is_sent_as_a_labels(alice_client, alice):
    assert post(alice_client, alice.mail_accounts.get(), to="jo@bücher.example").status_code == 302
    row = OutboxMessage.objects.get()
    assert row.recipients == ["jo@xn--bcher-kva.example"]
    assert str(queued_headers(row)["To"]) == "jo@xn--bcher-kva.example"


@pytest.mark.parametrize("typed,message", [
    ("jörg@example.test", "has characters outside ASCII before the @ (that needs SMTPUTF8, not supported here)"),
    ("bob@127.0.0.1", "write it in brackets, e.g. bob@[192.0.2.1]"),
    ("bob@[999.0.0.1]", "neither [IPv4] nor [IPv6:…]"),
    ('"bob@example.test', "has a quote that is not closed"),
    ("john doe@example.test", 'need quotes, e.g. "john doe"@example.com'),
    ("bob@example", "has no top-level domain"),
    ("Bob <bob@example.test>", "write the address alone"),
])
def test_addresses_that_cannot_be_sent_are_refused_saying_why(alice_client, alice, typed, message):
    response = post(alice_client, alice.mail_accounts.get(), to=typed)
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert f"“{typed}” is not a valid e-mail address: it " in page and message in page
    assert 'id="to-error"' in page and not OutboxMessage.objects.exists()


@pytest.mark.parametrize("display_name", ["Doe, John", 'John "Johnny" Doe', "Doe; John <x@example.test>",
                                          "Zoë, Ärger", "=?utf-8?q?abc?=", "a\\b"])
def test_a_display_name_with_specials_is_quoted_in_the_from(alice_client, alice, display_name):
    account = alice.mail_accounts.get()
    MailAccount.objects.filter(id=account.id).update(display_name=display_name)
    assert post(alice_client, account).status_code == 302
    [sender] = queued_headers(OutboxMessage.objects.get())["From"].addresses
    assert (sender.display_name, sender.addr_spec) == (display_name, "alice@example.test")


def test_doe_john_can_send_every_time(alice_client, alice):
    account = alice.mail_accounts.get()
    MailAccount.objects.filter(id=account.id).update(display_name="Doe, John")
    for _ in range(3):
        assert post(alice_client, account).status_code == 302
    assert OutboxMessage.objects.filter(envelope_from="alice@example.test").count() == 3


def test_line_breaks_a_row_already_holds_in_the_display_name_are_made_spaces(alice_client, alice):
    account = alice.mail_accounts.get()
    MailAccount.objects.filter(id=account.id).update(display_name="Alice\r\nBcc: victim@example.test\u2028\x0b")
    assert post(alice_client, account).status_code == 302
    headers = queued_headers(OutboxMessage.objects.get())
    assert headers["From"].addresses[0].display_name == "Alice Bcc: victim@example.test"
    assert "Bcc" not in headers and OutboxMessage.objects.get().recipients == ["bob@example.test"]


def test_an_account_whose_address_cannot_send_is_an_error_beside_from(alice_client, alice):
    account = alice.mail_accounts.get()
    MailAccount.objects.filter(id=account.id).update(address="jörg@example.test")
    response = post(alice_client, account)
    assert response.status_code == 200 and 'id="account-error"' in response.content.decode()
    assert "SMTPUTF8" in response.content.decode() and not OutboxMessage.objects.exists()


def test_what_compose_accepts_reaches_a_real_smtp_server_as_typed(alice_client, alice, smtp_server, settings):
    """Form → service → spool row → PipeliningSession → aiosmtpd: MAIL FROM, RCPT TO and the To/Cc headers."""
    settings.SPOOL_WAKE_COALESCE_SECONDS = 0
    settings.UNDO_SEND_SECONDS = 0  # (sent at once: no undo window to wait for)
    server = smtp_server()
    account = alice.mail_accounts.get()
    MailAccount.objects.filter(id=account.id).update(display_name="Doe, John", smtp_port=server.port)
    response = post(alice_client, account, to='"john doe"@example.test, bob@[127.0.0.1], "bob"@example.test',
                    cc="carol@[::1]; jo@bücher.example", subject="Quoted, literal, IDN")
    assert response.status_code == 302
    try:
        assert delivery.outbox_deliver_due() == 1
    finally:
        smtp_connections.close_sessions()
    [received] = server.handler.messages
    assert received.mail_from == "alice@example.test"
    assert received.rcpt_tos == ['"john doe"@example.test', "bob@[127.0.0.1]", "bob@example.test",
                                 "carol@[IPv6:::1]", "jo@xn--bcher-kva.example"]
    headers = email.message_from_bytes(received.data, policy=email.policy.default)
    assert [(a.username, a.domain) for a in headers["To"].addresses] == [
        ("john doe", "example.test"), ("bob", "[127.0.0.1]"), ("bob", "example.test")]
    assert [(a.username, a.domain) for a in headers["Cc"].addresses] == [
        ("carol", "[IPv6:::1]"), ("jo", "xn--bcher-kva.example")]
    assert headers["From"].addresses[0].display_name == "Doe, John"
    assert OutboxMessage.objects.get().status == "sent"


def test_over_the_sending_quota_the_form_says_so_keeps_the_text_and_queues_nothing(alice_client, alice, settings):
    settings.SEND_QUOTA_MESSAGES_PER_HOUR = 1
    account = alice.mail_accounts.get()
    assert post(alice_client, account).status_code == 302
    response = post(alice_client, account, subject="Second one", text="Typed with care")
    page = response.content.decode()
    assert response.status_code == 200
    assert '<p class="error">Your sending quota is used up: this message was not sent.' in page
    assert "1 messages per hour" in page
    assert 'value="Second one"' in page and "Typed with care" in page
    assert OutboxMessage.objects.count() == 1
