"""What leaves the spool: no header value with a line break gets in by any path into the outbox (here Django's
EmailMessage through spooler/backend.py; the compose form, the API, the contact form and the account forms have their
own tests), and the bytes on the wire are CRLF only with leading dots stuffed, end to end through a delivery."""
import re

import pytest
from django.core import mail
from django.core.mail import EmailMessage

from spooler.models import OutboxMessage
from spooler.services.outbound import delivery
from spooler.services.outbound.enqueue import outbox_raw
from tests.spooler.outbound.conftest import enqueue, point_relay

INJECTED = "x@example.test\r\nBcc: victim@example.test"


@pytest.mark.parametrize("change", [
    {"subject": "Hi\nBcc: victim@example.test"},
    {"subject": "Hi\rthere"},
    {"from_email": f"Site <{INJECTED}>"},
    {"to": [INJECTED]},
    {"cc": [INJECTED]},
    {"bcc": [INJECTED]},
    {"reply_to": [INJECTED]},
    {"headers": {"X-Tag": "a\r\nBcc: victim@example.test"}},
    {"headers": {"List-Id": "a\nb"}},
])
def test_site_mail_with_a_line_break_in_any_header_value_is_never_spooled(db, settings, change):
    settings.EMAIL_BACKEND = "spooler.backend.EmailBackend"  # (pytest-django swaps in locmem)
    fields = {"subject": "Hi", "body": "text", "from_email": "noreply@example.test", "to": ["user@example.test"]}
    fields.update(change)
    with pytest.raises(ValueError):
        EmailMessage(**fields).send()
    assert not OutboxMessage.objects.exists()
    assert mail.get_connection(fail_silently=True).send_messages([EmailMessage(**fields)]) == 0


def test_an_attachment_name_with_a_line_break_stays_on_one_line(db, settings):
    settings.EMAIL_BACKEND = "spooler.backend.EmailBackend"
    message = EmailMessage("Hi", "text", "noreply@example.test", ["user@example.test"])
    message.attach("a\r\nBcc: victim@example.test.txt", b"data", "text/plain")
    try:
        message.send()
    except ValueError:
        assert not OutboxMessage.objects.exists()
        return
    raw = bytes(OutboxMessage.objects.get().body.raw)
    assert not re.search(rb"^Bcc:", raw, re.M)


def test_bytes_on_the_wire_are_crlf_only_with_dots_stuffed(sender, smtp_server):
    """A lone "." line in the text would end DATA early if it were not stuffed: the server would get a cut message
    (and the rest as commands). What the server un-stuffs is what was spooled, line for line, CRLF only."""
    server = smtp_server()
    point_relay(sender, server.port)
    text = "first\n.\n..two dots\n.leading\rbare CR\r\nlast ."
    row = enqueue(sender, ["bob@example.test"], subject="dots", text=text)
    assert delivery.outbox_deliver_due() == 1
    row.refresh_from_db()
    assert row.status == "sent" and len(server.handler.messages) == 1
    received = server.handler.messages[0].data
    assert re.search(rb"(?<!\r)\n|\r(?!\n)", received) is None  # CRLF only, whatever the text had
    assert b"\r\nfirst\r\n.\r\n..two dots\r\n.leading\r\nbare CR\r\nlast .\r\n" in received
    assert received == outbox_raw(row).rstrip(b"\r\n") + b"\r\n"
