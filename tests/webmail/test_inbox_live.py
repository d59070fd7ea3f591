"""The inbox's live parts: the status JSON in plain words (with first-sync progress), the rows fragment,
"Check now", and the account settings page."""
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from mailsite.celery import app as celery_app
from mailsite.mailboxes.models import MailAccount
from spooler.services.inbound.store import message_store
from tests.webmail.account_helpers import account_form_data

pytestmark = pytest.mark.django_db


def store(user, subject, uid):
    return message_store(account=user.mail_accounts.get(), uid=uid, raw=f"Subject: {subject}\r\n\r\nx\r\n".encode())


def status(client):
    return client.get(reverse("webmail:status")).json()


def test_first_sync_progress_is_shown(alice_client, alice):
    MailAccount.objects.filter(user=alice).update(
        poll_lease_until=timezone.now() + timedelta(minutes=5), sync_done=1200, sync_total=5000)
    account = status(alice_client)["accounts"][0]
    assert account["state"] == "polling" and account["polling"] is True
    assert account["text"] == "Downloading: 1,200 of 5,000"
    assert account["progress"] == {"done": 1200, "total": 5000}
    assert "Downloading: 1,200 of 5,000" in alice_client.get(reverse("webmail:inbox")).content.decode()
    MailAccount.objects.filter(user=alice).update(poll_lease_until=None, last_polled_at=timezone.now())
    assert status(alice_client)["accounts"][0]["text"] == "1,200 of 5,000 downloaded; the rest follows."


def test_error_and_backoff_are_shown_in_plain_words(alice_client, alice):
    now = timezone.now()
    MailAccount.objects.filter(user=alice).update(
        last_polled_at=now, last_poll_error="Wrong user name or password (127.0.0.1:9).", poll_failures=3,
        next_poll_at=now + timedelta(minutes=4, seconds=5), last_poll_error_detail="mail server answered -ERR")
    account = status(alice_client)["accounts"][0]
    assert account["state"] == "error"
    assert account["text"].startswith("Wrong user name or password (127.0.0.1:9). Next try in 4")
    assert "-ERR" not in account["text"]  # the server's words are for the admin


def test_ok_status_says_when_and_how_many(alice_client, alice):
    MailAccount.objects.filter(user=alice).update(last_polled_at=timezone.now() - timedelta(minutes=2),
                                                  last_poll_fetched=3)
    assert status(alice_client)["accounts"][0]["text"] == "Checked 2\xa0minutes ago, 3 new."


def test_status_tells_the_newest_message(alice_client, alice, bob):
    assert status(alice_client)["latest"] == 0
    first = store(alice, "one", "1")
    store(bob, "bob's", "1")
    data = status(alice_client)
    assert data["latest"] == first.id and "messages" not in data  # (no COUNT(*) on a request that repeats)


def test_rows_fragment_is_the_inbox_rows_and_pager_only(alice_client, alice, bob):
    store(alice, "<i>new</i> mail", "1")
    store(bob, "not for alice", "1")
    response = alice_client.get(reverse("webmail:inbox_rows"))
    html = response.content.decode()
    assert '<tbody id="message-rows"' in html and '<div id="inbox-pager">' in html and "<html" not in html
    assert "&lt;i&gt;new&lt;/i&gt; mail" in html and "not for alice" not in html
    assert f'data-latest="{alice.mail_accounts.get().messages.get().id}"' in html


def test_rows_fragment_pages_like_the_inbox(alice_client, alice):
    for n in range(55):
        store(alice, f"mail {n}", str(n))
    first = alice_client.get(reverse("webmail:inbox_rows"))
    cursor = first.context["page"].next_cursor
    second = alice_client.get(reverse("webmail:inbox_rows"), {"after": cursor}).content.decode()
    first = first.content.decode()
    assert first.count("<tr ") == 50 and second.count("<tr ") == 5
    assert 'rel="next">Older' in first and ">Newest<" in second and "Older" not in second
    assert 'data-first="1"' in first and 'data-first="0"' in second


def test_rows_fragment_of_another_box(alice_client, alice):
    message = store(alice, "archived one", "1")
    alice_client.post(reverse("webmail:act"), {"action": "archive", "ids": [message.id]})
    assert "archived one" not in alice_client.get(reverse("webmail:inbox_rows")).content.decode()
    assert "archived one" in alice_client.get(reverse("webmail:inbox_rows"), {"box": "archive"}).content.decode()


def test_check_now_queues_a_forced_poll_per_account(alice_client, alice, monkeypatch):
    sent = []
    monkeypatch.setattr(celery_app, "send_task", lambda name, args, kwargs, retry, **options: sent.append((name, args)))
    response = alice_client.post(reverse("webmail:check_now"), HTTP_ACCEPT="application/json")
    assert response.json() == {"queued": 1}
    assert sent == [("spooler.tasks.poll_account", [alice.mail_accounts.get().id])]  # not due_only: forced


def test_check_now_survives_a_dead_broker(alice_client, alice, monkeypatch):
    tried = []

    def down(name, args, kwargs, retry, **options):
        tried.append(args)  # "queued": 0 alone would also pass if nothing tried to publish
        raise ConnectionError("redis is down")

    monkeypatch.setattr(celery_app, "send_task", down)
    assert alice_client.post(reverse("webmail:check_now"), HTTP_ACCEPT="application/json").json() == {"queued": 0}
    assert tried == [[alice.mail_accounts.get().id]]


def test_check_now_needs_csrf(alice):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post(reverse("webmail:check_now")).status_code == 403


def test_account_settings_change_polling(alice_client, alice):
    account = alice.mail_accounts.get()
    MailAccount.objects.filter(id=account.id).update(poll_failures=5, next_poll_at=timezone.now() + timedelta(hours=1))
    page = alice_client.get(reverse("webmail:accounts")).content.decode()
    assert account.address in page and reverse("webmail:account_edit", args=[account.id]) in page
    response = alice_client.post(reverse("webmail:account_edit", args=[account.id]), account_form_data(
        account, incoming_protocol="imap", incoming_security="starttls", incoming_username="alice@example.test",
        poll_interval_minutes=10, on_server="days", delete_after_days=30, imap_folders="INBOX\nArchive\n\nArchive",
    ))
    assert response.status_code == 302
    account.refresh_from_db()
    assert (account.incoming_protocol, account.incoming_security, account.incoming_port) == ("imap", "starttls", 9)
    assert account.poll_interval == 600 and account.delete_after_days == 30 and not account.delete_after_download
    assert account.imap_folders == ["INBOX", "Archive"]
    assert account.incoming_password == "mailbox-secret"  # empty: kept
    assert account.poll_failures == 0 and account.next_poll_at is None  # polled again soon, backoff forgotten
    alice_client.post(reverse("webmail:account_edit", args=[account.id]), account_form_data(
        account, incoming_protocol="pop3", incoming_security="tls", incoming_password="n3w", on_server="delete",
        poll_interval_minutes="", imap_folders=""))
    account.refresh_from_db()
    assert account.incoming_password == "n3w" and account.delete_after_download and account.poll_interval is None
    assert account.imap_folders == ["INBOX"]


def test_account_settings_validate(alice_client, alice):
    account = alice.mail_accounts.get()
    response = alice_client.post(reverse("webmail:account_edit", args=[account.id]), account_form_data(
        account, incoming_protocol="imap", incoming_security="none", incoming_port=70000,
        incoming_username="a\r\nb", on_server="days", delete_after_days="", poll_interval_minutes=0,
    ))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert {"incoming_port", "incoming_username", "delete_after_days", "poll_interval_minutes"} <= set(errors)
    page = response.content.decode()
    assert "mailbox-secret" not in page  # the password is never shown


def test_another_users_account_settings_are_404(client, alice, bob):
    client.force_login(alice)
    url = reverse("webmail:account_edit", args=[bob.mail_accounts.get().id])
    assert client.get(url).status_code == 404
    assert client.post(url, {"incoming_protocol": "pop3"}).status_code == 404
