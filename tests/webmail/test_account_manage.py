"""Mail accounts the user adds, changes, tests and removes: scoped to the user, passwords write-only, the usual
ports, the administrator's host rule with the error beside the field, no line breaks in header fields."""
import socket
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from mailsite.mailboxes.models import ConnectionTest, Identity, MailAccount, Message
from mailsite.webmail import services
from spooler import tasks
from spooler.models import OutboxMessage
from spooler.services import mail_hosts
from spooler.services.inbound import errors
from spooler.services.outbound.enqueue import outbox_raw
from tests.webmail.account_helpers import account_form_data

pytestmark = pytest.mark.django_db

INCOMING_SECRET = "Inc0ming-pw-never-shown"
SMTP_SECRET = "Smtp-pw-never-shown-2"


@pytest.fixture(autouse=True)
def _hosts(settings):
    settings.MAIL_ALLOWED_HOSTS = ["127.0.0.1"]


def new_account_data(**changes) -> dict:
    data = {
        "address": "me@example.org", "display_name": "Me Myself", "signature": "",
        "incoming_protocol": "pop3", "incoming_host": "127.0.0.1", "incoming_security": "tls", "incoming_port": "",
        "incoming_username": "me", "incoming_password": INCOMING_SECRET, "poll_interval_minutes": "",
        "on_server": "keep", "delete_after_days": "", "imap_folders": "",
        "smtp_host": "127.0.0.1", "smtp_security": "starttls", "smtp_port": "", "smtp_auth": "password",
        "smtp_username": "me", "smtp_password": SMTP_SECRET,
        "identities-TOTAL_FORMS": "1", "identities-INITIAL_FORMS": "0", "identities-0-name": "",
        "identities-0-address": "", "identities-0-signature": "",
    }
    data.update(changes)
    return data


def field_errors(response, name) -> list[str]:
    return response.context["form"].errors.get(name, [])


def secret_account(user) -> MailAccount:
    account = user.mail_accounts.get()
    MailAccount.objects.filter(id=account.id).update(incoming_password=INCOMING_SECRET, smtp_username="alice",
                                                     smtp_password=SMTP_SECRET)
    account.refresh_from_db()
    return account


# --- add, list, change ------------------------------------------------------------------------------------------


def test_an_account_is_added_with_the_usual_ports_and_listed(alice_client, alice):
    page = alice_client.get(reverse("webmail:accounts")).content.decode()
    assert reverse("webmail:account_add") in page and "Add account" in page
    form_page = alice_client.get(reverse("webmail:account_add")).content.decode()
    assert 'id="test-connection"' in form_page and 'id="default-ports"' in form_page
    assert "js/account_form.js" in form_page and "<script>" not in form_page  # no inline script (CSP)
    response = alice_client.post(reverse("webmail:account_add"), new_account_data())
    assert response.status_code == 302, response.context["form"].errors
    account = alice.mail_accounts.get(address="me@example.org")
    assert (account.incoming_port, account.smtp_port) == (995, 587)
    assert (account.incoming_password, account.smtp_password) == (INCOMING_SECRET, SMTP_SECRET)
    assert (account.display_name, account.smtp_username, account.delete_after_download) == ("Me Myself", "me", False)
    listed = alice_client.get(reverse("webmail:accounts")).content.decode()
    assert "me@example.org" in listed and "POLL_INTERVAL_SECONDS" not in listed


@pytest.mark.parametrize(("protocol", "security", "smtp_security", "ports"), [
    ("pop3", "none", "none", (110, 25)), ("pop3", "starttls", "starttls", (110, 587)), ("pop3", "tls", "tls", (995, 465)),
    ("imap", "none", "starttls", (143, 587)), ("imap", "starttls", "tls", (143, 465)), ("imap", "tls", "none", (993, 25)),
])
def test_an_empty_port_is_the_usual_one(alice_client, alice, protocol, security, smtp_security, ports):
    response = alice_client.post(reverse("webmail:account_add"), new_account_data(
        incoming_protocol=protocol, incoming_security=security, smtp_security=smtp_security))
    assert response.status_code == 302
    account = alice.mail_accounts.get(address="me@example.org")
    assert (account.incoming_port, account.smtp_port) == ports


def test_a_typed_port_is_kept(alice_client, alice):
    alice_client.post(reverse("webmail:account_add"), new_account_data(incoming_port="2110", smtp_port="2525"))
    account = alice.mail_accounts.get(address="me@example.org")
    assert (account.incoming_port, account.smtp_port) == (2110, 2525)


def test_no_authentication_clears_the_smtp_login(alice_client, alice):
    account = secret_account(alice)
    response = alice_client.post(reverse("webmail:account_edit", args=[account.id]),
                                 account_form_data(account, smtp_auth="none", smtp_username="alice"))
    assert response.status_code == 302
    account.refresh_from_db()
    assert (account.smtp_username, account.smtp_password) == ("", "")


def test_the_account_page_says_nothing_of_environment_variables(alice_client, alice):
    account = alice.mail_accounts.get()
    page = alice_client.get(reverse("webmail:account_edit", args=[account.id])).content.decode()
    assert "POLL_INTERVAL_SECONDS" not in page and "as often as the site checks" in page


# --- passwords ----------------------------------------------------------------------------------------------


def test_stored_passwords_are_never_in_the_page(alice_client, alice):
    account = secret_account(alice)
    url = reverse("webmail:account_edit", args=[account.id])
    page = alice_client.get(url).content.decode()
    assert INCOMING_SECRET not in page and SMTP_SECRET not in page
    with connection.cursor() as cursor:  # nor as stored (encrypted)
        cursor.execute("SELECT incoming_password, smtp_password FROM webmail_mailaccount WHERE id = %s", [account.id])
        tokens = cursor.fetchone()
    assert all(tokens) and not any(token in page for token in tokens)
    assert page.count('type="password"') == 2 and "Leave empty to keep the stored password." in page
    # Nor a password just typed, when the form comes back with an error.
    typed = "Typed-but-form-invalid-9"
    page = alice_client.post(url, account_form_data(account, address="not an address", incoming_password=typed,
                                                    smtp_password=typed)).content.decode()
    assert "not a valid e-mail address" in page
    assert typed not in page and INCOMING_SECRET not in page and SMTP_SECRET not in page


def test_an_empty_password_keeps_the_stored_one(alice_client, alice):
    account = secret_account(alice)
    response = alice_client.post(reverse("webmail:account_edit", args=[account.id]),
                                 account_form_data(account, display_name="Alice A."))
    assert response.status_code == 302
    account.refresh_from_db()
    assert (account.display_name, account.incoming_password, account.smtp_password) == (
        "Alice A.", INCOMING_SECRET, SMTP_SECRET)


def test_a_changed_server_needs_the_password_again(alice_client, alice):
    account = secret_account(alice)
    url = reverse("webmail:account_edit", args=[account.id])
    response = alice_client.post(url, account_form_data(account, incoming_port=2110, smtp_port=2525))
    assert response.status_code == 200
    assert field_errors(response, "incoming_password") == ["The server changed: enter the password again."]
    assert field_errors(response, "smtp_password") == ["The server changed: enter the password again."]
    response = alice_client.post(url, account_form_data(account, incoming_port=2110, incoming_password="new-1",
                                                        smtp_port=2525, smtp_password="new-2"))
    assert response.status_code == 302
    account.refresh_from_db()
    assert (account.incoming_port, account.incoming_password, account.smtp_password) == (2110, "new-1", "new-2")


def test_a_new_account_needs_its_passwords(alice_client):
    response = alice_client.post(reverse("webmail:account_add"),
                                 new_account_data(incoming_password="", smtp_password=""))
    assert field_errors(response, "incoming_password") == ["Enter the password."]
    assert field_errors(response, "smtp_password") == ["Enter the password."]


# --- which servers --------------------------------------------------------------------------------------------


def test_a_loopback_host_is_refused_beside_its_field_unless_allowed(alice_client, alice, settings):
    settings.MAIL_ALLOWED_HOSTS = []
    response = alice_client.post(reverse("webmail:account_add"), new_account_data())
    assert response.status_code == 200 and not alice.mail_accounts.filter(address="me@example.org").exists()
    refused = f"{errors.NOT_ALLOWED}."
    assert field_errors(response, "incoming_host") == [refused] and field_errors(response, "smtp_host") == [refused]
    page = response.content.decode()
    beside = page[page.index('data-field="incoming_host"'):page.index('data-field="incoming_security"')]
    assert refused.replace("'", "&#x27;") in beside
    settings.MAIL_ALLOWED_HOSTS = ["127.0.0.1:995", "127.0.0.1:587"]  # explicit entries
    assert alice_client.post(reverse("webmail:account_add"), new_account_data()).status_code == 302
    settings.MAIL_ALLOWED_HOSTS = ["*"]
    assert alice_client.post(reverse("webmail:account_add"),
                             new_account_data(address="two@example.org", incoming_port="12345")).status_code == 302


def test_a_name_resolving_to_a_private_address_is_refused(alice_client, monkeypatch, settings):
    settings.MAIL_ALLOWED_HOSTS = []
    resolved = {"mail.example.org": "93.184.216.34", "mail.corp.example": "10.0.0.25"}
    monkeypatch.setattr(mail_hosts.socket, "getaddrinfo", lambda host, port, *a, **k: [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", (resolved[host], port))])
    response = alice_client.post(reverse("webmail:account_add"), new_account_data(
        incoming_host="mail.corp.example", smtp_host="mail.example.org"))
    assert field_errors(response, "incoming_host") == [f"{errors.NOT_ALLOWED}."]
    assert field_errors(response, "smtp_host") == []
    response = alice_client.post(reverse("webmail:account_add"), new_account_data(
        incoming_host="mail.example.org", smtp_host="mail.example.org", smtp_port="2525"))  # not a mail port
    assert field_errors(response, "smtp_host") == [f"{errors.NOT_ALLOWED}."]
    assert field_errors(response, "incoming_host") == []


def test_a_server_set_by_the_administrator_is_kept_without_a_check(alice_client, alice, settings):
    settings.MAIL_ALLOWED_HOSTS = []
    account = alice.mail_accounts.get()  # 127.0.0.1:9, as an administrator set it up
    response = alice_client.post(reverse("webmail:account_edit", args=[account.id]),
                                 account_form_data(account, signature="Hi"))
    assert response.status_code == 302


@pytest.mark.parametrize("host", ["mail example.org", "mail.example.org\r\nX: y", "-bad.example.org", "a" * 300])
def test_a_host_that_is_not_a_server_name_is_refused(alice_client, host):
    response = alice_client.post(reverse("webmail:account_add"), new_account_data(incoming_host=host))
    assert field_errors(response, "incoming_host")


# --- header fields ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "value"), [
    ("display_name", "Alice\r\nBcc: victim@example.org"), ("display_name", "Alice\nX"), ("display_name", "A\u2028B"),
    ("address", "me@example.org\r\nBcc: victim@example.org"), ("address", "me@example.org\n"),
])
def test_line_breaks_are_refused_in_header_fields(alice_client, alice, name, value):
    account = alice.mail_accounts.get()
    response = alice_client.post(reverse("webmail:account_edit", args=[account.id]),
                                 account_form_data(account, **{name: value}))
    assert response.status_code == 200 and field_errors(response, name)
    account.refresh_from_db()
    assert "\n" not in account.display_name and "\n" not in account.address


def test_a_signature_keeps_its_lines(alice_client, alice):
    account = alice.mail_accounts.get()
    alice_client.post(reverse("webmail:account_edit", args=[account.id]),
                      account_form_data(account, signature="Alice\r\nPhone 123"))
    account.refresh_from_db()
    assert account.signature == "Alice\nPhone 123"


# --- another user's -----------------------------------------------------------------------------------------


def test_another_users_account_is_404_everywhere(alice_client, alice, bob):
    theirs = bob.mail_accounts.get()
    for name in ("webmail:account_edit", "webmail:account_remove", "webmail:account_test"):
        url = reverse(name, args=[theirs.id])
        assert alice_client.get(url).status_code in (404, 405)
        assert alice_client.post(url, account_form_data(theirs)).status_code == 404
    assert MailAccount.objects.filter(id=theirs.id).exists()
    test = ConnectionTest.objects.create(user=bob, account=theirs)
    assert alice_client.get(reverse("webmail:account_test_status", args=[test.id])).status_code == 404


# --- remove ---------------------------------------------------------------------------------------------------


def stored_message(account, uid):
    return Message.objects.create(account=account, user=account.user, uid=uid, raw_compressed=b"", size=0,
                                  subject=f"message {uid}")


def test_removing_asks_first_then_deletes_the_account_and_its_messages(alice_client, alice, bob):
    account = alice.mail_accounts.get()
    for uid in ("1", "2"):
        stored_message(account, uid)
    kept = stored_message(bob.mail_accounts.get(), "1")
    waiting = services.compose_send(user=alice, account=account, to=["x@example.org"], cc=[], subject="Later",
                                    text="Hi", not_before=timezone.now() + timedelta(hours=1))
    url = reverse("webmail:account_remove", args=[account.id])
    page = alice_client.get(url).content.decode()
    assert "Its 2 stored messages will be deleted from this site." in page
    assert "1 message waiting in the Outbox is cancelled." in page
    assert MailAccount.objects.filter(id=account.id).exists()  # asking removes nothing
    response = alice_client.post(url)
    assert response.status_code == 302
    assert not MailAccount.objects.filter(id=account.id).exists()
    assert not Message.objects.filter(user=alice).exists() and Message.objects.filter(id=kept.id).exists()
    assert OutboxMessage.objects.get(id=waiting.id).status == "cancelled"  # never sent through another relay


def test_removing_needs_csrf(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    account = alice.mail_accounts.get()
    assert client.post(reverse("webmail:account_remove", args=[account.id])).status_code == 403
    assert MailAccount.objects.filter(id=account.id).exists()


# --- Test connection --------------------------------------------------------------------------------------------


def test_a_test_is_stored_and_queued_after_commit(alice_client, alice, monkeypatch, django_capture_on_commit_callbacks):
    published = []
    monkeypatch.setattr(tasks.connection_test, "apply_async", lambda args, kwargs, **options: published.append(args))
    account = secret_account(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(reverse("webmail:account_test", args=[account.id]),
                                     account_form_data(account, incoming_security="tls"))
    assert response.status_code == 202
    answer = response.json()
    test = ConnectionTest.objects.get(id=answer["id"])
    assert published == [[test.id]]
    assert answer["status_url"] == reverse("webmail:account_test_status", args=[test.id])
    assert (test.user, test.account, test.status) == (alice, account, "queued")
    assert (test.incoming_password, test.smtp_password) == ("", "")  # empty: the worker uses the stored ones
    assert test.settings["incoming_security"] == "tls" and test.settings["smtp_username"] == "alice"
    assert INCOMING_SECRET not in response.content.decode() and INCOMING_SECRET not in str(test.settings)


def test_a_test_of_a_new_account_keeps_the_typed_passwords_until_it_runs(alice_client, monkeypatch):
    monkeypatch.setattr(tasks.connection_test, "apply_async", lambda *a, **k: None)
    response = alice_client.post(reverse("webmail:account_test_new"), new_account_data(address=""))
    assert response.status_code == 202  # who you are does not matter to the servers
    test = ConnectionTest.objects.get(id=response.json()["id"])
    assert (test.account, test.incoming_password, test.smtp_password) == (None, INCOMING_SECRET, SMTP_SECRET)
    assert (test.settings["incoming_port"], test.settings["smtp_port"]) == (995, 587)


def test_a_test_with_bad_fields_says_which(alice_client):
    response = alice_client.post(reverse("webmail:account_test_new"), new_account_data(incoming_port="0",
                                                                                         smtp_host="a b"))
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"incoming_port", "smtp_host"}
    assert not ConnectionTest.objects.exists()


def test_the_status_of_a_test(alice_client, alice, settings):
    test = ConnectionTest.objects.create(user=alice)
    url = reverse("webmail:account_test_status", args=[test.id])
    assert alice_client.get(url).json() == {"id": test.id, "state": "queued", "incoming": None, "smtp": None}
    ConnectionTest.objects.filter(id=test.id).update(
        status="done", incoming_ok=True, smtp_ok=False, smtp_result=errors.WRONG_PASSWORD)
    assert alice_client.get(url).json() == {
        "id": test.id, "state": "done", "incoming": {"ok": True, "text": "Connected."},
        "smtp": {"ok": False, "text": "Wrong user name or password."}}
    # Never picked up by a worker: the page stops waiting and says so.
    forgotten = ConnectionTest.objects.create(
        user=alice, created_at=timezone.now() - timedelta(seconds=settings.MAIL_TEST_PICKUP_SECONDS + 1))
    assert alice_client.get(reverse("webmail:account_test_status", args=[forgotten.id])).json()["state"] == "lost"


# --- identities -------------------------------------------------------------------------------------------------


def with_identity(data, n=0, **fields):
    data = dict(data)
    data["identities-TOTAL_FORMS"] = str(max(int(data["identities-TOTAL_FORMS"]), n + 1))
    data.update({f"identities-{n}-{name}": value for name, value in fields.items()})
    return data


def test_identities_are_added_changed_and_removed_on_the_account_page(alice_client, alice):
    account = alice.mail_accounts.get()
    url = reverse("webmail:account_edit", args=[account.id])
    page = alice_client.get(url).content.decode()
    assert 'name="identities-0-address"' in page  # one empty row to add one
    response = alice_client.post(url, with_identity(account_form_data(account), name="Support desk",
                                                    address="support@example.test", signature="The team\r\n"))
    assert response.status_code == 302
    identity = Identity.objects.get(account=account)
    assert (identity.name, identity.address, identity.signature) == ("Support desk", "support@example.test",
                                                                      "The team")
    response = alice_client.post(url, with_identity(account_form_data(account), name="Help desk"))
    assert response.status_code == 302
    identity.refresh_from_db()
    assert identity.name == "Help desk"
    alice_client.post(url, with_identity(account_form_data(account), DELETE="on"))
    assert not Identity.objects.filter(account=account).exists()


@pytest.mark.parametrize(("name", "value"), [("name", "Support\r\nBcc: victim@example.org"),
                                             ("address", "support@example.test\nBcc: victim@example.org"),
                                             ("address", "not an address")])
def test_an_identity_with_a_line_break_or_a_bad_address_is_refused(alice_client, alice, name, value):
    account = alice.mail_accounts.get()
    fields = {"name": "Support", "address": "support@example.test", name: value}
    response = alice_client.post(reverse("webmail:account_edit", args=[account.id]),
                                 with_identity(account_form_data(account), **fields))
    assert response.status_code == 200
    assert response.context["identities"].forms[0].errors.get(name)
    assert not Identity.objects.exists()


def test_another_users_identity_cannot_be_changed_through_ones_own_account(alice_client, alice, bob):
    theirs = Identity.objects.create(account=bob.mail_accounts.get(), name="Bob's", address="b2@example.test")
    account = alice.mail_accounts.get()
    data = account_form_data(account)
    data.update({"identities-TOTAL_FORMS": "1", "identities-INITIAL_FORMS": "1", "identities-0-id": str(theirs.id),
                 "identities-0-name": "Taken", "identities-0-address": "taken@example.test"})
    alice_client.post(reverse("webmail:account_edit", args=[account.id]), data)
    theirs.refresh_from_db()
    assert (theirs.account.user, theirs.name, theirs.address) == (bob, "Bob's", "b2@example.test")
    assert not Identity.objects.filter(account=account).exists()  # nor taken over, nor copied


def test_compose_offers_the_identities_and_sends_with_the_chosen_ones_from_and_signature(alice_client, alice, bob,
                                                                                         settings):
    settings.UNDO_SEND_SECONDS = 0
    account = alice.mail_accounts.get()
    MailAccount.objects.filter(id=account.id).update(signature="Alice")
    identity = Identity.objects.create(account=account, name="Support, Desk", address="support@example.test",
                                       signature="The support team")
    Identity.objects.create(account=bob.mail_accounts.get(), name="Bob's", address="b2@example.test")
    response = alice_client.get(reverse("webmail:compose"))
    choices = list(response.context["form"].fields["account"].choices)
    assert choices == [(str(account.id), account.address),
                       (f"{account.id}:{identity.id}", "Support, Desk <support@example.test>")]
    assert response.context["signatures"] == {str(account.id): "Alice", f"{account.id}:{identity.id}":
                                              "The support team"}
    response = alice_client.post(reverse("webmail:compose"), {
        "account": f"{account.id}:{identity.id}", "to": "x@example.org", "subject": "From support", "text": "Hi"})
    assert response.status_code == 302
    row = OutboxMessage.objects.get(subject="From support")
    assert row.relay == account and row.envelope_from == "support@example.test"
    assert b'From: "Support, Desk" <support@example.test>' in outbox_raw(row)
    # The account's own name and address, as before.
    alice_client.post(reverse("webmail:compose"), {
        "account": account.id, "to": "x@example.org", "subject": "From Alice", "text": "Hi"})
    assert b'From: Alice <alice@example.test>' in outbox_raw(OutboxMessage.objects.get(subject="From Alice"))
    # Another user's identity is not a choice.
    theirs = Identity.objects.get(name="Bob's")
    response = alice_client.post(reverse("webmail:compose"), {
        "account": f"{account.id}:{theirs.id}", "to": "x@example.org", "subject": "Stolen", "text": "Hi"})
    assert response.status_code == 200 and "account" in response.context["form"].errors
    assert not OutboxMessage.objects.filter(subject="Stolen").exists()


def test_a_user_cannot_queue_tests_without_bound(alice_client, alice, bob, monkeypatch, settings):
    settings.MAIL_TEST_MAX_WAITING = 2
    monkeypatch.setattr(tasks.connection_test, "apply_async", lambda *a, **k: None)
    ConnectionTest.objects.create(user=bob)  # another user's do not count
    url = reverse("webmail:account_test_new")
    assert [alice_client.post(url, new_account_data()).status_code for _ in range(3)] == [202, 202, 429]
    assert "still running" in alice_client.post(url, new_account_data()).json()["error"]
    ConnectionTest.objects.filter(user=alice).update(status="done")
    assert alice_client.post(url, new_account_data()).status_code == 202


def test_the_list_says_how_each_account_is_read(alice_client, alice):
    MailAccount.objects.filter(user=alice).update(delete_after_days=30, poll_interval=600, incoming_protocol="imap",
                                                  imap_folders=["INBOX", "Lists"])
    page = alice_client.get(reverse("webmail:accounts")).content.decode()
    assert "left on the server for 30 days" in page and "checked every 10 minutes" in page
    assert "INBOX, Lists" in page
    MailAccount.objects.filter(user=alice).update(delete_after_days=None, delete_after_download=True,
                                                  poll_interval=None)
    page = alice_client.get(reverse("webmail:accounts")).content.decode()
    assert "deleted from the server after download" in page and "checked as often as the site checks" in page
