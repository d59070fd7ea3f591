"""Storing one message: parsed fields, thread, attachments once by hash, hostile values, bounce notices."""
import hashlib

import pytest

from mailsite.mailboxes.models import Attachment, Message
from spooler.services.inbound.store import message_store
from mailsite.mailboxes.placement import normalize_subject
from spooler.services.inbound.store import conversation_id
from spooler.sessions import Attachment as Part
from spooler.sessions import Email

pytestmark = pytest.mark.django_db


def build(**kwargs):
    kwargs.setdefault("sender", "Sender <sender@example.test>")
    kwargs.setdefault("to", ["reader@example.test"])
    return Email(**kwargs).to_bytes()


def test_parsed_fields_are_stored(alice):
    account = alice.mail_accounts.get()
    raw = build(subject="Grüße", text="Hello\n\n  world  " + "x" * 300, message_id="<root@example.test>",
                in_reply_to="<parent@example.test>", references=["<root0@example.test>", "<parent@example.test>"],
                cc=["cc@example.test"])
    message = message_store(account=account, uid="bounce-1", raw=raw)
    assert message.subject == "Grüße" and message.sender == "Sender <sender@example.test>"
    assert message.to == "reader@example.test" and message.cc == "cc@example.test"
    assert message.message_id == "<root@example.test>" and message.in_reply_to == "<parent@example.test>"
    assert message.references == "<root0@example.test> <parent@example.test>"
    assert message.snippet.startswith("Hello world x") and len(message.snippet) == 140
    assert message.size == len(raw) and message.sha256 == hashlib.sha256(raw).hexdigest()
    assert message.raw == raw and not message.parse_error and not message.has_attachments
    assert message.folder == "" and message.on_server is False  # a bounce notice was on no server


def test_bounce_uid_is_stored_once(alice):
    account = alice.mail_accounts.get()
    raw = build(subject="Undelivered", text="sorry")
    assert message_store(account=account, uid="bounce-7", raw=raw) is not None
    assert message_store(account=account, uid="bounce-7", raw=raw) is None
    assert Message.objects.count() == 1


def test_conversation_follows_the_references_root():
    root = Email.parse(build(subject="Plan", text="a", message_id="<r@x>"))
    reply = Email.parse(build(subject="Re: Plan", text="b", message_id="<a@x>", in_reply_to="<r@x>",
                              references=["<r@x>"]))
    deep = Email.parse(build(subject="Re: Re: Plan", text="c", message_id="<b@x>", in_reply_to="<a@x>",
                             references=["<r@x>", "<a@x>"]))
    only_parent = Email.parse(build(subject="Re: Plan", text="d", message_id="<c@x>", in_reply_to="<r@x>"))
    other = Email.parse(build(subject="Plan", text="e", message_id="<z@x>"))
    ids = {conversation_id(m) for m in (root, reply, deep, only_parent)}
    assert len(ids) == 1 and conversation_id(other) not in ids
    assert len(conversation_id(root)) == 32


def test_conversation_without_ids_uses_the_normalized_subject():
    first = Email.parse(b"Subject: Quarterly numbers\r\n\r\nx\r\n")
    second = Email.parse(b"Subject: RE: Fwd: [team]  quarterly   NUMBERS\r\n\r\ny\r\n")
    assert conversation_id(first) == conversation_id(second)
    assert normalize_subject("Re: AW: Fw: hello") == "hello"
    assert conversation_id(Email.parse(b"Subject: other\r\n\r\n")) != conversation_id(first)


def test_attachments_are_stored_once_by_hash(alice, media_root):
    account = alice.mail_accounts.get()
    pdf = b"%PDF-1.4 report " * 1000
    for n in range(2):
        raw = build(subject=f"report {n}", text="see attached",
                    attachments=[Part("report.pdf", "application/pdf", pdf), Part("n.txt", "text/plain", b"n%d" % n)])
        message = message_store(account=account, uid=f"bounce-{n}", raw=raw)
        assert message.has_attachments
    rows = Attachment.objects.filter(safe_filename="report.pdf")
    assert rows.count() == 2 and len({r.file.name for r in rows}) == 1
    digest = hashlib.sha256(pdf).hexdigest()
    assert rows[0].sha256 == digest and rows[0].size == len(pdf) and rows[0].content_type == "application/pdf"
    files = [p for p in media_root.rglob("*") if p.is_file()]
    assert len(files) == 3  # the PDF once, two small text files
    assert (media_root / rows[0].file.name).read_bytes() == pdf


def test_hostile_names_and_values_are_stored_safely(alice):
    account = alice.mail_accounts.get()
    raw = (b"Subject: nul \x00 here\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
           b"--b\r\nContent-Type: text/plain\r\n\r\ntext with \x00 NUL\r\n"
           b"--b\r\nContent-Type: application/octet-stream\r\n"
           b"Content-Disposition: attachment; filename=\"../../etc/\xe2\x80\xaepasswd\x00.txt\"\r\n\r\nroot\r\n--b--\r\n")
    message = message_store(account=account, uid="bounce-x", raw=raw)
    assert "\x00" not in message.subject + message.text
    attachment = message.attachments.get()
    assert "/" not in attachment.safe_filename and "\u202e" not in attachment.safe_filename
    assert attachment.filename.startswith("../../etc/")  # kept as sent, never used as a path
    assert attachment.file.name.startswith("attachments/") and ".." not in attachment.file.name
