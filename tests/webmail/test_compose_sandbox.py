"""Compose through the real spool to the mail sandbox (aiosmtpd writing Maildirs): two attachments and a Bcc arrive
intact; a message taken back with "Undo" never arrives, while one sent beside it does."""
import email
import email.policy
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from spooler.models import OutboxMessage
from spooler.services.outbound import delivery, smtp_connections
from tests.fixtures.users import make_user

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40  # 10 kB: over SPOOL_BLOB_MIN_BYTES, so stored apart by its hash
PNG = b"\x89PNG\r\n\x1a\n" + bytes(reversed(range(256))) * 3


@pytest.fixture(autouse=True)
def _spool(settings):
    settings.SPOOL_WAKE_COALESCE_SECONDS = 0
    yield
    smtp_connections.close_sessions()


def arrived(sandbox, address) -> list[email.message.EmailMessage]:
    new = sandbox.maildir(address) / "new"
    return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in sorted(new.iterdir())]


def due_now(row):
    OutboxMessage.objects.filter(id=row.id).update(not_before=timezone.now() - timedelta(seconds=1),
                                                   next_attempt_at=timezone.now() - timedelta(seconds=1))


def test_two_attachments_and_a_bcc_arrive_intact(client, mail_sandbox, settings):
    settings.UNDO_SEND_SECONDS = 0
    alice, bob, carol = (make_user(name, sandbox=mail_sandbox) for name in ("alice", "bob", "carol"))
    bob_address, carol_address = bob.mail_accounts.get().address, carol.mail_accounts.get().address
    client.force_login(alice)
    files = [SimpleUploadedFile("report.pdf", PDF, content_type="application/pdf"),
             SimpleUploadedFile("Grüße.png", PNG, content_type="image/png")]
    response = client.post(reverse("webmail:compose"), {
        "account": alice.mail_accounts.get().id, "to": bob_address, "bcc": carol_address,
        "subject": "Two files", "text": "Both attached.", "attachments": files})
    assert response.status_code == 302
    row = OutboxMessage.objects.get()
    assert row.parts.count() == 1  # the PDF's base64 body is kept once, by hash
    assert delivery.outbox_deliver_due() == 1
    row.refresh_from_db()
    assert row.status == "sent"
    for address in (bob_address, carol_address):
        [message] = arrived(mail_sandbox, address)
        assert message["Subject"] == "Two files" and "Bcc" not in message
        assert carol_address not in message.as_string()  # the Bcc is nowhere in what anyone receives
        parts = list(message.iter_attachments())
        assert [(p.get_filename(), p.get_content_type()) for p in parts] == [
            ("report.pdf", "application/pdf"), ("Grüße.png", "image/png")]
        assert parts[0].get_content() == PDF and parts[1].get_content() == PNG
        assert message.get_body(("plain",)).get_content().strip() == "Both attached."


def test_an_undone_message_never_arrives(client, mail_sandbox, settings):
    settings.UNDO_SEND_SECONDS = 10
    alice, bob = make_user("alice", sandbox=mail_sandbox), make_user("bob", sandbox=mail_sandbox)
    bob_address = bob.mail_accounts.get().address
    client.force_login(alice)
    account = alice.mail_accounts.get().id
    for subject in ("Taken back", "Sent for real"):
        assert client.post(reverse("webmail:compose"), {
            "account": account, "to": bob_address, "subject": subject, "text": "Hello"}).status_code == 302
    undone, kept = OutboxMessage.objects.get(subject="Taken back"), OutboxMessage.objects.get(subject="Sent for real")
    assert delivery.outbox_deliver_due() == 0  # both wait for the undo window
    response = client.post(reverse("webmail:compose_undo"), {"outbox": undone.id})
    assert response.status_code == 302 and "?draft=" in response["Location"]
    due_now(undone)
    due_now(kept)  # the undo window is over for both
    assert delivery.outbox_deliver_due() == 1
    assert delivery.outbox_deliver_due() == 0
    undone.refresh_from_db()
    kept.refresh_from_db()
    assert (undone.status, kept.status) == ("cancelled", "sent")
    assert [m["Subject"] for m in arrived(mail_sandbox, bob_address)] == ["Sent for real"]
    assert alice.drafts.get().subject == "Taken back"
