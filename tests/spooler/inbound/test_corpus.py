"""A mailbox holding every message of the corpus (tests/corpus) plus normal mail: all stored, none blocks the others,
every page renders escaped text, every attachment downloads under a safe name with a safe type."""
import re
from pathlib import Path

import pytest
from django.urls import reverse

from mailsite.mailboxes.models import Attachment, Message
from spooler.services.inbound.poll import account_poll
from spooler.sessions import IMAPSession, POP3Session
from tests import corpus
from tests.spooler.inbound.conftest import simple, use_imap

pytestmark = pytest.mark.django_db
FILES = corpus.all_mail()
SAFE_TYPES = {"application/octet-stream", "text/plain", "image/png", "image/jpeg", "image/gif", "application/pdf"}


def served_bytes(account, sandbox):
    cls, port = (IMAPSession, sandbox.config.imap_port) if account.incoming_protocol == "imap" else \
        (POP3Session, sandbox.config.pop3_port)
    with cls("127.0.0.1", port, account.incoming_username, account.incoming_password, security="none") as session:
        return [session.retrieve(uid) for uid, _ in session.uidl()]


def test_the_corpus_is_there():
    corpus.require(FILES, at_least=70)


@pytest.mark.timeout(240)  # a message that blocks the poll shows as a hang; no bound on how fast it goes
@pytest.mark.parametrize("protocol", ["pop3", "imap"])
def test_corpus_mailbox_is_stored_whole(reader, account, mail_sandbox, client, protocol):
    if protocol == "imap":
        use_imap(account, mail_sandbox)
    account.delete_after_download = True
    account.save()
    mail_sandbox.deliver(account.address, simple(0, "normal before the corpus"))
    for case in corpus.require(FILES):
        mail_sandbox.deliver(account.address, case.data)
    mail_sandbox.deliver(account.address, simple(1, "normal after the corpus"))
    served = served_bytes(account, mail_sandbox)
    assert len(served) == len(FILES) + 2
    result = account_poll(account_id=account.id)
    account.refresh_from_db()
    assert account.last_poll_error == "" and result.stored == len(FILES) + 2
    assert Message.objects.filter(subject__startswith="normal").count() == 2
    assert Message.objects.filter(parse_error=True).count() >= 10  # the malformed ones are flagged, not dropped
    # Exactly the bytes the server served (Dovecot rewrites NULs and bare LFs; we keep what we got).
    assert sorted(m.raw for m in Message.objects.all()) == sorted(served)
    assert account_poll(account_id=account.id).stored == 0

    client.force_login(reader)
    inbox = client.get(reverse("webmail:inbox"))
    assert inbox.status_code == 200 and b"<script" not in inbox.content.split(b"</main>")[0].split(b"<main>")[1]
    for message in Message.objects.all():
        page = client.get(reverse("webmail:message", args=[message.id]))
        assert page.status_code == 200
        # What the message contributes to the page: its article (the toolbar's forms around it are the site's).
        body = page.content.split(b'<article class="card message">')[1].split(b"</article>")[0]
        # The site's own frame of the HTML part goes (its srcdoc is escaped; tests/webmail/test_reading_corpus.py
        # checks what is in it).
        body = re.sub(rb'<iframe class="html-body"[^<>]*></iframe>', b"", body)
        for tag in (b"<script", b"<img", b"<iframe", b"<svg", b"<form", b"<base", b"<meta", b"<object", b"<style"):
            assert tag not in body.lower(), (message.subject, tag)
    attachments = Attachment.objects.all()
    assert attachments.count() >= 5
    for attachment in attachments:
        response = client.get(reverse("webmail:attachment", args=[attachment.id]))
        assert response.status_code == 200
        assert response["Content-Type"] in SAFE_TYPES, (attachment.filename, response["Content-Type"])
        assert response["X-Content-Type-Options"] == "nosniff"
        disposition = response["Content-Disposition"]
        assert disposition.startswith("attachment; filename=\"") and "filename*=UTF-8''" in disposition
        for bad in ("/", "\\", "\u202e", "\x00", "\r", "\n"):
            assert bad not in attachment.safe_filename
        assert b"".join(response.streaming_content) == (Path(attachment.file.path)).read_bytes()
    disguised = Attachment.objects.get(message__subject="html disguised as jpeg")
    assert disguised.content_type == "image/jpeg" and disguised.safe_filename == "holiday.jpg"
    response = client.get(reverse("webmail:attachment", args=[disguised.id]))
    assert response["Content-Type"] == "application/octet-stream"  # it does not start like a JPEG
    for attachment in Attachment.objects.filter(message__subject="svg attachment with script"):  # SVG, HTML
        assert client.get(reverse("webmail:attachment", args=[attachment.id]))["Content-Type"] == \
            "application/octet-stream", attachment.content_type
    traversal = Attachment.objects.filter(message__subject="traversal filenames").order_by("id")
    assert [a.safe_filename for a in traversal] == ["authorized_keys", "win.ini"]
