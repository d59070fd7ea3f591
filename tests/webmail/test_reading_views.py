"""The message page's reading views: scoping, the inline part's signed URL, show original, headers, remote
content once and always for a sender."""
import re

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse

from mailsite.mailboxes.models import RemoteContentSender
from mailsite.webmail.reading import parts
from spooler.services.inbound.store import message_store
from tests import corpus
from tests.webmail.reading_helpers import frame_srcdoc, page_frames

pytestmark = pytest.mark.django_db

NEWSLETTER = corpus.wrap_html("49-newsletter", corpus.own("html/49-newsletter-remote-images.html"))


def store(user, raw: bytes, uid="1"):
    return message_store(account=user.mail_accounts.get(), uid=uid, raw=raw)


def page(client, message, query=""):
    response = client.get(reverse("webmail:message", args=[message.id]) + query)
    assert response.status_code == 200
    return response


def part_urls(srcdoc: str) -> list[str]:
    return re.findall(r'src="(http://testserver/message/\d+/part/[^"]+)"', srcdoc)


def test_an_html_message_is_framed_in_a_sandbox_with_a_strict_page_policy(alice_client, alice):
    message = store(alice, NEWSLETTER)
    response = page(alice_client, message)
    frame = page_frames(response.content.decode())[0]
    assert frame["sandbox"] == "allow-popups allow-popups-to-escape-sandbox"
    assert "allow-scripts" not in frame["sandbox"] and "allow-same-origin" not in frame["sandbox"]
    assert int(frame["height"]) >= 200
    csp = response["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "img-src 'self' data:;" in csp and "frame-ancestors 'none'" in csp
    assert "Show remote content" in response.content.decode()


def test_show_remote_content_once(alice_client, alice):
    message = store(alice, NEWSLETTER)
    assert "remote.example/newsletter/hero.png" not in frame_srcdoc(page(alice_client, message).content.decode())
    response = page(alice_client, message, "?remote=1")
    assert "http://remote.example/newsletter/hero.png" in frame_srcdoc(response.content.decode())
    assert "img-src 'self' data: https: http:;" in response["Content-Security-Policy"]
    assert "script-src 'self';" in response["Content-Security-Policy"]
    assert "remote.example/newsletter/hero.png" not in frame_srcdoc(page(alice_client, message).content.decode())


def test_always_for_this_sender_is_a_post_of_the_users_own(alice_client, alice, bob, client):
    message = store(alice, NEWSLETTER)
    url = reverse("webmail:remote_sender", args=[message.id])
    assert alice_client.get(url).status_code == 405
    assert alice_client.post(url)["Location"] == reverse("webmail:message", args=[message.id])
    assert list(RemoteContentSender.objects.values_list("user__username", "address")) == [("alice", "corpus@example.test")]
    assert "hero.png" in frame_srcdoc(page(alice_client, message).content.decode())
    other = store(alice, NEWSLETTER.replace(b"corpus@example.test", b"other@example.test"), uid="2")
    assert "hero.png" not in frame_srcdoc(page(alice_client, other).content.decode())
    client.force_login(bob)
    assert client.post(url).status_code == 404


def test_the_csrf_token_is_required_for_always(alice, client):
    message = store(alice, NEWSLETTER)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    assert strict.post(reverse("webmail:remote_sender", args=[message.id])).status_code == 403
    assert not RemoteContentSender.objects.exists()


def test_inline_parts_are_shown_by_signed_url_and_not_listed(alice_client, alice, bob, client):
    message = store(alice, corpus.own("eml/38-inline-cid-parts.eml"))
    content = page(alice_client, message).content.decode()
    srcdoc = frame_srcdoc(content)
    urls = part_urls(srcdoc)
    assert len(urls) == 2  # the logo and the disguised one (served only if it is an image); the missing one goes
    assert "notes.txt" in content and content.count('download>') == 1  # only the real attachment is listed
    logo = alice_client.get(urls[0].removeprefix("http://testserver"))
    assert logo.status_code == 200 and logo["Content-Type"] == "image/png"
    assert logo["X-Content-Type-Options"] == "nosniff" and logo["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert logo["Content-Disposition"] == "inline"
    assert alice_client.get(urls[1].removeprefix("http://testserver")).status_code == 404  # <script> as image/png

    anonymous = Client()  # the sandboxed frame sends no cookie: the signature is the scope
    assert anonymous.get(urls[0].removeprefix("http://testserver")).status_code == 200
    client.force_login(bob)  # another user's session with alice's URL
    assert client.get(urls[0].removeprefix("http://testserver")).status_code == 404


def test_a_part_url_is_bound_to_its_user_message_and_part(alice, bob, client):
    message = store(alice, corpus.own("eml/38-inline-cid-parts.eml"))
    other = store(bob, corpus.own("eml/38-inline-cid-parts.eml"))
    logo = message.attachments.get(content_id="logo@corpus.mailsite.test")
    bobs_logo = other.attachments.get(content_id="logo@corpus.mailsite.test")

    def get(message_id, token):
        return client.get(reverse("webmail:message_part", args=[message_id, token])).status_code

    good = parts.part_token(user_id=alice.id, message_id=message.id, attachment_id=logo.id)
    assert get(message.id, good) == 200
    assert get(other.id, good) == 404  # another message's URL
    assert get(message.id, good[:-2] + ("AA" if not good.endswith("AA") else "BB")) == 404  # tampered
    assert get(message.id, parts.part_token(user_id=bob.id, message_id=message.id, attachment_id=logo.id)) == 404
    assert get(message.id, parts.part_token(user_id=alice.id, message_id=message.id, attachment_id=bobs_logo.id)) == 404
    forged = signing.dumps([alice.id, message.id, logo.id], salt="another-salt")
    assert get(message.id, forged) == 404
    text = message.attachments.get(filename="notes.txt")
    assert get(message.id, parts.part_token(user_id=alice.id, message_id=message.id, attachment_id=text.id)) == 404


def test_a_part_url_expires(alice, client, monkeypatch):
    message = store(alice, corpus.own("eml/38-inline-cid-parts.eml"))
    logo = message.attachments.get(content_id="logo@corpus.mailsite.test")
    token = parts.part_token(user_id=alice.id, message_id=message.id, attachment_id=logo.id)
    monkeypatch.setattr(parts, "MAX_AGE", -1)
    assert client.get(reverse("webmail:message_part", args=[message.id, token])).status_code == 404


def test_show_original_is_the_raw_source_as_inert_text(alice_client, alice, bob, client):
    raw = corpus.own("eml/19-svg-attachment.eml")
    message = store(alice, raw)
    response = alice_client.get(reverse("webmail:message_original", args=[message.id]))
    assert response.status_code == 200 and response.content == raw
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"].startswith("inline")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    client.force_login(bob)
    assert client.get(reverse("webmail:message_original", args=[message.id])).status_code == 404


def test_all_headers_on_demand_escaped(alice_client, alice, bob, client):
    raw = (b"From: a@example.test\r\nSubject: hi\r\nX-Evil: <script>alert(1)</script>\r\nReceived: from x\r\n"
           b"\tby y\r\n\r\nbody <script>\r\n")
    message = store(alice, raw)
    assert "X-Evil" not in page(alice_client, message).content.decode()
    content = page(alice_client, message, "?headers=1").content.decode()
    assert "X-Evil: &lt;script&gt;alert(1)&lt;/script&gt;" in content and "Received: from x\n\tby y" in content
    assert "<script>alert(1)" not in content and "body &lt;script" in content  # the body once, as text
    client.force_login(bob)
    assert client.get(reverse("webmail:message", args=[message.id]) + "?headers=1").status_code == 404


def test_plain_text_is_linked_and_folded(alice_client, alice):
    message = store(alice, b"Subject: t\r\n\r\nSee https://example.org/x\r\n> old <b>text</b>\r\n> more\r\nbye\r\n")
    content = page(alice_client, message).content.decode()
    assert '<a href="https://example.org/x" target="_blank" rel="noopener noreferrer">' in content
    assert '<details class="quoted"><summary>Quoted text (2 lines)</summary><pre>&gt; old &lt;b&gt;text&lt;/b&gt;' in content
    assert page_frames(content) == []


def test_html_over_a_cap_beside_a_text_part_shows_the_text_and_offers_the_original(alice_client, alice, settings):
    raw = (b"Subject: deep\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n"
           b"--b\r\nContent-Type: text/plain\r\n\r\nthe text\r\n--b\r\nContent-Type: text/html\r\n\r\n"
           + b"<div>" * 3000 + b"x\r\n--b--\r\n")
    message = store(alice, raw)
    content = page(alice_client, message).content.decode()
    assert "too complex to show safely" in content and "the text" in content and page_frames(content) == []
    assert reverse("webmail:message_original", args=[message.id]) in content


def test_an_html_only_message_is_stored_with_a_readable_text(alice):
    message = store(alice, NEWSLETTER)
    assert message.has_html and message.html
    assert "Weekly deals\n\n" in message.text and "- One\n- Two" in message.text
    assert "deal <https://remote.example/deal>" in message.text and "write to us <news@remote.example>" in message.text
