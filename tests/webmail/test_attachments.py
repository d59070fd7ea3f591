"""Attachment downloads: the user's own only, always as a download, under a safe name, in a type that cannot run."""
import pytest
from django.urls import reverse

from mailsite.webmail.views.attachments import attachment_disposition, download_type
from spooler.services.inbound.store import message_store
from spooler.sessions import Attachment as Part
from spooler.sessions import Email

pytestmark = pytest.mark.django_db
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def store(user, *parts, uid="1"):
    raw = Email(sender="s@example.test", to=["r@example.test"], subject="files", text="see attached",
                attachments=list(parts)).to_bytes()
    return message_store(account=user.mail_accounts.get(), uid=uid, raw=raw)


def download(client, attachment):
    return client.get(reverse("webmail:attachment", args=[attachment.id]))


@pytest.mark.parametrize("content_type,data,served", [
    ("text/html", b"<script>alert(1)</script>", "application/octet-stream"),
    ("image/svg+xml", b"<svg onload=alert(1)>", "application/octet-stream"),
    ("application/javascript", b"alert(1)", "application/octet-stream"),
    ("application/xhtml+xml", b"<html/>", "application/octet-stream"),
    ("image/png", b"<html><script>alert(1)</script></html>", "application/octet-stream"),
    ("image/png", PNG, "image/png"),
    ("application/pdf", b"%PDF-1.7 ...", "application/pdf"),
    ("text/plain", b"hello", "text/plain"),
])
def test_served_type_is_safe(alice_client, alice, content_type, data, served):
    message = store(alice, Part("file.bin", content_type, data))
    attachment = message.attachments.get()
    response = download(alice_client, attachment)
    assert response.status_code == 200
    assert response["Content-Type"] == served
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "sandbox" in response["Content-Security-Policy"] and "default-src 'none'" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content) == data


def test_filename_is_safe_and_rfc6266(alice_client, alice):
    message = store(alice, Part("../../Ünïcödé \u202eexe.txt\"; x=y", "text/plain", b"x"))
    attachment = message.attachments.get()
    disposition = download(alice_client, attachment)["Content-Disposition"]
    assert disposition.startswith('attachment; filename="')
    fallback = disposition.split('filename="')[1].split('"')[0]
    assert fallback.isascii() and "/" not in fallback and ";" not in fallback
    assert "filename*=UTF-8''" in disposition
    encoded = disposition.split("filename*=UTF-8''")[1]
    assert all(c.isalnum() or c in "%-._~" for c in encoded)
    assert "%E2%80%AE" not in encoded  # the right-to-left override was removed
    assert "\r" not in disposition and "\n" not in disposition


def test_disposition_helper():
    assert attachment_disposition("report.pdf") == "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"
    assert attachment_disposition("日本.txt").startswith('attachment; filename=".txt"') or \
        attachment_disposition("日本.txt").startswith('attachment; filename="txt"')
    assert download_type("image/gif", b"GIF89a...") == "image/gif"
    assert download_type("image/gif", b"<svg") == "application/octet-stream"


def test_another_users_attachment_is_404(client, alice, bob):
    message = store(bob, Part("secret.txt", "text/plain", b"bob's"))
    client.force_login(alice)
    assert download(client, message.attachments.get()).status_code == 404


def test_download_needs_login(client, alice):
    message = store(alice, Part("a.txt", "text/plain", b"a"))
    response = download(client, message.attachments.get())
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_message_page_lists_attachments_by_safe_name(alice_client, alice):
    message = store(alice, Part("<b>x</b>.txt", "text/plain", b"a"))
    page = alice_client.get(reverse("webmail:message", args=[message.id])).content.decode()
    assert reverse("webmail:attachment", args=[message.attachments.get().id]) in page
    assert "<b>x" not in page and ">b_.txt</a>" in page
