"""The admin shows each account's poll status in plain words and can queue polls."""
import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from mailsite.mailboxes.models import MailAccount
from spooler.services.inbound.store import message_store

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, db):
    admin = get_user_model().objects.create_superuser("root", "root@example.test", "pw")
    client.force_login(admin)
    return client


def test_account_list_shows_status_and_detail(admin_client, alice):
    MailAccount.objects.filter(user=alice).update(
        last_polled_at=timezone.now(), last_poll_error="The server could not be reached (127.0.0.1:9).",
        last_poll_error_detail="mail server 127.0.0.1:9: connection refused while connecting", poll_failures=2)
    page = admin_client.get(reverse("admin:mailboxes_mailaccount_changelist")).content.decode()
    assert "The server could not be reached (127.0.0.1:9)." in page
    account = alice.mail_accounts.get()
    change = admin_client.get(reverse("admin:mailboxes_mailaccount_change", args=[account.id])).content.decode()
    assert "connection refused while connecting" in change


def test_poll_now_action(admin_client, alice, bob, monkeypatch):
    sent = []
    from mailsite.celery import app
    from spooler.tasks import poll_account

    monkeypatch.setattr(app, "send_task", lambda name, args, kwargs, retry, **options: sent.append((name, args)))
    ids = list(MailAccount.objects.values_list("id", flat=True))
    response = admin_client.post(reverse("admin:mailboxes_mailaccount_changelist"),
                                 {"action": "poll_now", "_selected_action": ids})
    assert response.status_code == 302
    assert sorted(a for _, (a,) in sent) == sorted(ids) and {n for n, _ in sent} == {poll_account.name}


def test_message_admin_lists_attachments(admin_client, alice):
    from spooler.sessions import Attachment, Email

    raw = Email(sender="s@example.test", to=["r@example.test"], subject="with file", text="x",
                attachments=[Attachment("a.pdf", "application/pdf", b"%PDF-1")]).to_bytes()
    message = message_store(account=alice.mail_accounts.get(), uid="1", raw=raw)
    page = admin_client.get(reverse("admin:mailboxes_message_change", args=[message.id])).content.decode()
    assert "a.pdf" in page and "application/pdf" in page
