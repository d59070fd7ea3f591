"""Bounce notices: what failed, the server's words, the original headers; nothing can break out of a header."""
from datetime import UTC, datetime

import pytest
from django.utils import timezone, translation

from mailsite.mailboxes.models import Message, UserPreference
from spooler.models import OutboxMessage
from spooler.services.outbound.bounce import bounce_email, outbox_bounce
from spooler.sessions import Email
from tests.spooler.outbound.conftest import enqueue

pytestmark = pytest.mark.django_db


def test_bounce_notice_content(sender):
    row = enqueue(sender, ["a@example.test", "b@example.test"], subject="Minutes")
    row.outcomes = {
        "a@example.test": {"status": "sent", "code": 250, "text": "ok"},
        "b@example.test": {"status": "failed", "code": 550, "text": "5.1.1 <b@example.test>: no such user\r\nInjected: yes"},
    }
    parsed = Email.parse(bounce_email(row=row, to=row.relay.address).to_bytes())
    assert parsed.subject == "Undelivered Mail Returned to Sender: Minutes"
    assert parsed.to == [row.relay.address] and "mailer-daemon" in parsed.sender.lower()
    assert "b@example.test" in parsed.text and "550 5.1.1 <b@example.test>: no such user  Injected: yes" in parsed.text
    assert "Delivered to: a@example.test" in parsed.text
    assert f"Message-ID: {row.message_id}" in parsed.text
    assert parsed.attachments[0].content_type == "text/rfc822-headers"
    assert row.message_id.encode() in parsed.attachments[0].data
    assert not any(name.lower() == "injected" for name, _v in parsed.header_list)


def test_subject_with_control_characters_stays_one_line(sender):
    row = enqueue(sender, ["a@example.test"], subject="ok")
    OutboxMessage.objects.filter(id=row.id).update(subject="Hi\nBcc: victim@example.test")
    row.refresh_from_db()
    row.outcomes = {"a@example.test": {"status": "expired", "code": None, "text": "timed out"}}
    raw = bounce_email(row=row, to=row.relay.address).to_bytes()
    assert b"\nBcc:" not in raw and b"Hi Bcc: victim@example.test" in raw.replace(b"\r\n ", b" ")
    assert b"lifetime" in raw


def test_the_notice_is_in_the_senders_language_and_zone(sender):
    UserPreference.objects.create(user=sender, language="es", time_zone="Europe/Madrid")
    worker = (translation.get_language(), timezone.get_current_timezone_name())
    row = enqueue(sender, ["b@example.test"], subject="Actas")
    OutboxMessage.objects.filter(id=row.id).update(created_at=datetime(2025, 1, 15, 12, 0, tzinfo=UTC))
    row.refresh_from_db()
    row.outcomes = {"b@example.test": {"status": "failed", "code": 550, "text": "no such user"}}
    assert outbox_bounce(row=row)
    notice = Message.objects.get(user=sender, uid=f"bounce-{row.id}")
    assert notice.subject == "Correo no entregado devuelto al remitente: Actas"
    assert "No se ha podido entregar tu mensaje a uno o varios destinatarios." in notice.text
    assert "<b@example.test>: Rechazado (5xx)" in notice.text and "550 no such user" in notice.text
    assert "En cola desde: 15 de enero de 2025 a las 13:00 CET" in notice.text  # Madrid's time, in Spanish
    # The worker's own language and zone are left as they were.
    assert (translation.get_language(), timezone.get_current_timezone_name()) == worker
