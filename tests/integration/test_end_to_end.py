"""The whole path with real parts: compose form → outbox row → Celery worker over a private Redis →
SMTP (aiosmtpd) → Maildir → POP3 (Dovecot) poll run by Celery beat → bob's inbox page."""
import time

import pytest
from django.test import Client
from django.urls import reverse

from spooler.models import OutboxMessage
from tests.fixtures.users import make_user
from tests.fixtures.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_alice_writes_and_bob_reads(mail_sandbox, celery_worker):
    alice = make_user("alice", sandbox=mail_sandbox)
    bob = make_user("bob", sandbox=mail_sandbox)
    bob_address = bob.mail_accounts.get().address
    subject = f"Lunch on Friday? {time.time_ns()}"
    body = "Grüße, Bob! Ça va ? Дякую. 日本語のテキスト ✓"

    client = Client(enforce_csrf_checks=False)
    client.force_login(alice)
    response = client.post(
        reverse("webmail:compose"),
        {"account": alice.mail_accounts.get().id, "to": bob_address, "subject": subject, "text": body},
    )
    assert response.status_code == 302
    row = OutboxMessage.objects.get(subject=subject)

    def sent():
        row.refresh_from_db()
        return row.status == "sent"

    assert wait_for(sent, timeout=45), f"not sent: {row.status} {row.last_text}\n{celery_worker.log_text()[-2000:]}"

    reader = Client()
    reader.force_login(bob)

    def in_inbox():
        page = reader.get(reverse("webmail:inbox")).content.decode()
        return subject in page and page

    page = wait_for(in_inbox, timeout=45, interval=0.25)
    assert page, f"not in bob's inbox\n{celery_worker.log_text()[-2000:]}"
    assert "Alice" in page and alice.mail_accounts.get().address in page

    message = bob.mail_accounts.get().messages.get(subject=subject)
    detail = reader.get(reverse("webmail:message", args=[message.id])).content.decode()
    assert body in detail
    assert subject in detail
