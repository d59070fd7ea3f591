import zlib

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

from mailsite.mailboxes.models import Message
from spooler.services.inbound.store import message_store
from tests.webmail.reading_helpers import frame_srcdoc

pytestmark = pytest.mark.django_db


def store(user, raw: bytes, uid="1") -> Message:
    return message_store(account=user.mail_accounts.get(), uid=uid, raw=raw)


@pytest.mark.parametrize("name", ["webmail:inbox", "webmail:compose", "webmail:outbox", "webmail:status"])
def test_every_page_needs_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_login_page_is_open_and_logs_in(client, alice):
    assert client.get(reverse("login")).status_code == 200
    response = client.post(reverse("login"), {"username": "alice", "password": "correct horse battery staple"})
    assert response.status_code == 302
    assert client.get(reverse("webmail:inbox")).status_code == 200


def test_inbox_lists_own_messages_only(client, alice, bob):
    store(alice, b"From: x@example.test\r\nSubject: for alice\r\n\r\nbody\r\n")
    store(bob, b"From: y@example.test\r\nSubject: for bob\r\n\r\nbody\r\n")
    client.force_login(alice)
    page = client.get(reverse("webmail:inbox")).content.decode()
    assert "for alice" in page and "for bob" not in page


def test_another_users_message_is_404(client, alice, bob):
    message = store(bob, b"Subject: private\r\n\r\nsecret\r\n")
    client.force_login(alice)
    assert client.get(reverse("webmail:message", args=[message.id])).status_code == 404


def test_message_page_escapes_text(client, alice):
    message = store(alice, b"Subject: <b>bold</b>\r\n\r\n<script>alert(1)</script>\r\n")
    client.force_login(alice)
    page = client.get(reverse("webmail:message", args=[message.id])).content.decode()
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>bold</b>" not in page


def test_html_only_message_is_stored_with_its_text_and_shown_sanitised_in_a_frame(client, alice):
    raw = (
        b"Subject: html\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        b"<p>Hello <b>Bob</b></p><script>steal()</script><img src=x onerror=alert(1)>"
        b"<style>body{display:none}</style>\r\n"
    )
    message = store(alice, raw)
    assert message.has_html
    assert "Hello Bob" in message.text
    assert "steal" not in message.text and "display:none" not in message.text
    client.force_login(alice)
    page = client.get(reverse("webmail:message", args=[message.id])).content.decode()
    assert "onerror" not in page and "<img" not in page  # the markup is in the frame's srcdoc, escaped
    srcdoc = frame_srcdoc(page)
    assert "Hello <b>Bob</b>" in srcdoc
    assert "steal" not in srcdoc and "onerror" not in srcdoc and "display:none" not in srcdoc


def test_pages_send_a_strict_csp(client, alice):
    client.force_login(alice)
    csp = client.get(reverse("webmail:inbox"))["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp


def test_raw_bytes_are_kept_exactly(alice):
    raw = b"Subject: x\r\n\r\n\x00\xff binary\r\n"
    message = store(alice, raw)
    assert message.raw == raw and zlib.decompress(bytes(message.raw_compressed)) == raw
    assert store(alice, raw) is None  # same uid again: nothing stored twice
    assert Message.objects.count() == 1


def test_status_json_is_scoped(client, alice, bob):
    store(bob, b"Subject: b\r\n\r\nb\r\n")
    client.force_login(alice)
    data = client.get(reverse("webmail:status")).json()
    assert data["latest"] == 0
    assert [a["address"] for a in data["accounts"]] == ["alice@example.test"]


def test_favicon_ico_leads_to_the_sites_icon(client):
    """Asked for by browsers on pages that name no icon, such as the admin's; it was a 404."""
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("/favicon.svg")
    assert finders.find("favicon.svg")  # (the test client serves no static files; the file is there)
