"""Bounce notices: what failed, the server's words, the original headers; nothing can break out of a header."""
import pytest

from spooler.models import OutboxMessage
from spooler.services.outbound.bounce import bounce_email
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
