"""Compose: Bcc (envelope only), the account chosen, line breaks refused in every header field, attachments
(several, a total limit), send later, undo send, signatures."""
import email
import email.policy
import re
import zoneinfo
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from mailsite.mailboxes.models import MailAccount
from mailsite.webmail.forms import attachment_parts
from spooler.models import OutboxMessage
from spooler.services.outbound.enqueue import outbox_raw
from tests.webmail.account_helpers import account_form_data

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_undo_by_default(settings):
    settings.UNDO_SEND_SECONDS = 0
    settings.COMPOSE_MAX_ATTACHMENT_BYTES = 10_000


def post(client, account, **fields):
    data = {"account": account.id, "to": "bob@example.test", "cc": "", "bcc": "", "subject": "Hi", "text": "Hello"}
    data.update(fields)
    return client.post(reverse("webmail:compose"), data)


def parsed(row):
    return email.message_from_bytes(outbox_raw(row), policy=email.policy.default)


def second_account(user, address="alice.work@example.test", **fields):
    first = user.mail_accounts.get()
    return MailAccount.objects.create(
        user=user, address=address, display_name="Alice at work", incoming_host="127.0.0.1", incoming_port=9,
        incoming_username=address, incoming_password="x", incoming_security="none", smtp_host="127.0.0.1",
        smtp_port=first.smtp_port, smtp_security="none", **fields)


# --- Bcc, To, Cc ---------------------------------------------------------------------------------------------


def test_bcc_is_in_the_envelope_and_never_in_the_headers(alice_client, alice):
    response = post(alice_client, alice.mail_accounts.get(), cc="carol@example.test",
                    bcc="secret@example.test, hidden@example.test")
    assert response.status_code == 302
    row = OutboxMessage.objects.get()
    assert row.recipients == ["bob@example.test", "carol@example.test", "secret@example.test", "hidden@example.test"]
    raw = outbox_raw(row)
    assert b"secret@" not in raw and b"hidden@" not in raw and b"Bcc" not in raw
    assert [a.addr_spec for a in parsed(row)["Cc"].addresses] == ["carol@example.test"]


def test_bcc_alone_is_enough(alice_client, alice):
    assert post(alice_client, alice.mail_accounts.get(), to="", bcc="secret@example.test").status_code == 302
    row = OutboxMessage.objects.get()
    assert row.recipients == ["secret@example.test"] and "To" not in parsed(row)


def test_no_recipient_at_all_is_an_error_beside_to(alice_client, alice):
    response = post(alice_client, alice.mail_accounts.get(), to="", cc="", bcc="")
    assert response.status_code == 200
    assert 'id="to-error"' in response.content.decode() and "Enter at least one address." in response.content.decode()
    assert not OutboxMessage.objects.exists()


def test_an_invalid_bcc_is_shown_beside_bcc(alice_client, alice):
    response = post(alice_client, alice.mail_accounts.get(), bcc="not-an-address")
    assert response.status_code == 200 and 'id="bcc-error"' in response.content.decode()
    assert not OutboxMessage.objects.exists()


@pytest.mark.parametrize("field", ["to", "cc", "bcc", "subject"])
@pytest.mark.parametrize("value", ["x@example.test\r\nBcc: victim@example.test", "x@example.test\nX: 1",
                                   "x@example.test\r", "x@example.test\u2028"])
def test_line_breaks_in_any_header_field_are_an_error_beside_it(alice_client, alice, field, value):
    response = post(alice_client, alice.mail_accounts.get(), **{field: value})
    assert response.status_code == 200
    page = response.content.decode()
    assert f'id="{field}-error"' in page and "not allowed here" in page
    assert not OutboxMessage.objects.exists()


@pytest.mark.parametrize("field,value", [("in_reply_to", "<a@example.test>\r\nBcc: victim@example.test"),
                                         ("references", "<a@example.test>\nX-Evil: 1"),
                                         ("in_reply_to", "not an id"), ("references", "<a@x.test> junk")])
def test_thread_fields_hold_message_ids_only(alice_client, alice, field, value):
    response = post(alice_client, alice.mail_accounts.get(), **{field: value})
    assert response.status_code == 200 and f'id="{field}-error"' in response.content.decode()
    assert not OutboxMessage.objects.exists()


def test_the_account_chosen_sends(alice_client, alice):
    work = second_account(alice)
    assert post(alice_client, work).status_code == 302
    row = OutboxMessage.objects.get()
    assert row.relay == work and row.envelope_from == "alice.work@example.test"
    assert parsed(row)["From"].addresses[0].addr_spec == "alice.work@example.test"


def test_compose_offers_each_of_the_users_accounts_and_no_one_elses(alice_client, alice, bob):
    second_account(alice)
    page = alice_client.get(reverse("webmail:compose")).content.decode()
    assert "alice@example.test" in page and "alice.work@example.test" in page and "bob@example.test" not in page


# --- attachments ----------------------------------------------------------------------------------------------


def test_several_files_are_attached(alice_client, alice):
    files = [SimpleUploadedFile("report.pdf", b"%PDF-1.4 " + bytes(range(256)), content_type="application/pdf"),
             SimpleUploadedFile("notes é.txt", "Grüße\n".encode(), content_type="text/plain")]
    assert post(alice_client, alice.mail_accounts.get(), attachments=files).status_code == 302
    message = parsed(OutboxMessage.objects.get())
    parts = list(message.iter_attachments())
    assert [(p.get_filename(), p.get_content_type()) for p in parts] == [
        ("report.pdf", "application/pdf"), ("notes é.txt", "text/plain")]
    assert parts[0].get_content() == b"%PDF-1.4 " + bytes(range(256))
    assert message.get_body(("plain",)).get_content().strip() == "Hello"


def test_attachments_over_the_limit_are_an_error_beside_the_field_and_nothing_is_queued(alice_client, alice):
    files = [SimpleUploadedFile("a.bin", b"a" * 6000), SimpleUploadedFile("b.bin", b"b" * 6000)]
    response = post(alice_client, alice.mail_accounts.get(), attachments=files)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="attachments-error"' in page and "Attachments may be 9.8\xa0KB together" in page
    assert not OutboxMessage.objects.exists()
    # The file that went over the limit was dropped as it arrived, never stored.
    assert [f.name for f in response.wsgi_request.FILES.getlist("attachments")] == ["a.bin"]


def test_one_file_over_the_limit_is_refused(alice_client, alice):
    response = post(alice_client, alice.mail_accounts.get(), attachments=[SimpleUploadedFile("big.bin", b"x" * 10_001)])
    assert response.status_code == 200 and 'id="attachments-error"' in response.content.decode()
    assert not OutboxMessage.objects.exists() and not response.wsgi_request.FILES.getlist("attachments")


def test_files_up_to_the_limit_together_are_sent(alice_client, alice):
    files = [SimpleUploadedFile("a.bin", b"a" * 5000), SimpleUploadedFile("b.bin", b"b" * 5000)]
    assert post(alice_client, alice.mail_accounts.get(), attachments=files).status_code == 302
    assert len(list(parsed(OutboxMessage.objects.get()).iter_attachments())) == 2


def test_a_hostile_file_name_and_type_cannot_inject_headers(alice_client, alice):
    upload = SimpleUploadedFile("a\u2028b.txt", b"x", content_type="text/plain\r\nBcc: victim@example.test")
    assert post(alice_client, alice.mail_accounts.get(), attachments=[upload]).status_code == 302
    row = OutboxMessage.objects.get()
    [part] = parsed(row).iter_attachments()
    # (Django's upload parser already drops what follows the type, and the test client the U+2028.)
    assert part.get_filename() in ("a b.txt", "ab.txt") and part.get_content_type() == "text/plain"
    assert row.recipients == ["bob@example.test"] and b"victim" not in outbox_raw(row)


@pytest.mark.parametrize("name,ctype,sent_name,sent_type", [
    ("a\u2028b\r\n.txt", "text/plain", "a b .txt", "text/plain"),
    ("\u2028", "TEXT/HTML", "attachment", "text/html"),
    ("x.bin", "text/plain\r\nBcc: victim@example.test", "x.bin", "application/octet-stream"),
    ("x.bin", "message/rfc822", "x.bin", "application/octet-stream"),
    ("x.bin", "", "x.bin", "application/octet-stream"),
])
def test_attachment_parts_put_names_on_one_line_and_keep_only_writable_types(name, ctype, sent_name, sent_type):
    upload = SimpleUploadedFile("placeholder", b"x", content_type=ctype)
    upload.name = name  # (as a browser may send it: SimpleUploadedFile itself would clean it)
    [(got_name, got_type, _upload)] = attachment_parts([upload])
    assert (got_name, got_type) == (sent_name, sent_type)


def test_an_uploaded_multipart_type_is_sent_as_bytes(alice_client, alice):
    upload = SimpleUploadedFile("x.eml", b"not really", content_type="multipart/mixed")
    assert post(alice_client, alice.mail_accounts.get(), attachments=[upload]).status_code == 302
    [part] = parsed(OutboxMessage.objects.get()).iter_attachments()
    assert part.get_content_type() == "application/octet-stream" and part.get_content() == b"not really"


def test_the_file_input_takes_several_files(alice_client):
    page = alice_client.get(reverse("webmail:compose")).content.decode()
    [tag] = re.findall(r'<input type="file" name="attachments"[^>]*>', page)
    assert re.search(r"\smultiple[\s>]", tag) and 'enctype="multipart/form-data"' in page


# --- send later -----------------------------------------------------------------------------------------------


def test_send_later_schedules_through_not_before_in_the_users_zone(alice_client, alice, settings):
    settings.TIME_ZONE = "Europe/Paris"
    paris = zoneinfo.ZoneInfo("Europe/Paris")
    typed = (timezone.now() + timedelta(days=2)).astimezone(paris).replace(second=0, microsecond=0)
    response = post(alice_client, alice.mail_accounts.get(), send_at=typed.strftime("%Y-%m-%dT%H:%M"))
    assert response.status_code == 302
    row = OutboxMessage.objects.get()
    assert row.not_before == typed and row.next_attempt_at == typed  # Paris time, not UTC (an hour apart)
    assert row.expires_at - typed == timedelta(seconds=settings.SPOOL_LIFETIME_SECONDS)  # lives from when it is due
    shown = f"Scheduled for {typed:%a} {typed.day} {typed:%b %Y, %H:%M %Z}"  # the whole date, in the user's zone
    assert shown in alice_client.get(response["Location"]).content.decode()


def test_send_later_in_the_past_is_refused_beside_the_field(alice_client, alice):
    past = timezone.localtime(timezone.now() - timedelta(minutes=5))
    response = post(alice_client, alice.mail_accounts.get(), send_at=past.strftime("%Y-%m-%dT%H:%M"))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="send_at-error"' in page and "This time is in the past" in page
    assert not OutboxMessage.objects.exists()


def test_send_later_garbage_is_refused_beside_the_field(alice_client, alice):
    response = post(alice_client, alice.mail_accounts.get(), send_at="tomorrow\r\nBcc: x@example.test")
    assert response.status_code == 200 and 'id="send_at-error"' in response.content.decode()
    assert not OutboxMessage.objects.exists()


# --- undo send ------------------------------------------------------------------------------------------------


def test_a_sent_message_waits_for_the_undo_window(alice_client, alice, settings):
    settings.UNDO_SEND_SECONDS = 10
    before = timezone.now()
    response = post(alice_client, alice.mail_accounts.get())
    assert response.status_code == 302 and response["Location"] == reverse("webmail:outbox")
    row = OutboxMessage.objects.get()
    assert before + timedelta(seconds=10) <= row.not_before <= timezone.now() + timedelta(seconds=10)
    page = alice_client.get(response["Location"]).content.decode()
    assert "Sent." in page and f'action="{reverse("webmail:compose_undo")}"' in page
    assert f'name="outbox" value="{row.id}"' in page and ">Undo</button>" in page


def test_undo_cancels_the_row_and_reopens_it_as_a_draft(alice_client, alice, settings):
    settings.UNDO_SEND_SECONDS = 10
    post(alice_client, alice.mail_accounts.get(), to="bob@example.test", cc="carol@example.test",
         bcc="secret@example.test", subject="Oops", text="Line one\nLine two",
         in_reply_to="<orig@example.test>", references="<root@example.test> <orig@example.test>")
    row = OutboxMessage.objects.get()
    response = alice_client.post(reverse("webmail:compose_undo"), {"outbox": row.id})
    row.refresh_from_db()
    assert row.status == "cancelled"
    draft = alice.drafts.get()
    assert response["Location"] == reverse("webmail:compose") + f"?draft={draft.id}"
    assert (draft.to, draft.cc, draft.bcc, draft.subject, draft.text) == (
        "bob@example.test", "carol@example.test", "secret@example.test", "Oops", "Line one\nLine two")
    assert draft.in_reply_to == "<orig@example.test>" and draft.references == "<root@example.test> <orig@example.test>"
    page = alice_client.get(response["Location"]).content.decode()
    assert "secret@example.test" in page and "Line one\nLine two" in page


def test_undo_is_too_late_once_the_row_was_claimed(alice_client, alice, settings):
    settings.UNDO_SEND_SECONDS = 10
    post(alice_client, alice.mail_accounts.get())
    row = OutboxMessage.objects.get()
    OutboxMessage.objects.filter(id=row.id).update(status="sending")
    response = alice_client.post(reverse("webmail:compose_undo"), {"outbox": row.id}, follow=True)
    assert "Too late to undo" in response.content.decode()
    row.refresh_from_db()
    assert row.status == "sending" and not alice.drafts.exists()


def test_undo_of_another_users_message_does_nothing(alice_client, alice, bob, client, settings):
    settings.UNDO_SEND_SECONDS = 10
    post(alice_client, alice.mail_accounts.get())
    row = OutboxMessage.objects.get()
    client.force_login(bob)
    client.post(reverse("webmail:compose_undo"), {"outbox": row.id})
    row.refresh_from_db()
    assert row.status == "queued" and not bob.drafts.exists()


def test_undo_needs_post_and_csrf(alice, settings):
    from django.test import Client

    settings.UNDO_SEND_SECONDS = 10
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.get(reverse("webmail:compose_undo")).status_code == 405
    assert client.post(reverse("webmail:compose_undo"), {"outbox": 1}).status_code == 403


# --- signature ------------------------------------------------------------------------------------------------


def test_a_new_message_starts_with_the_accounts_signature(alice_client, alice):
    MailAccount.objects.filter(user=alice).update(signature="Alice\nExample Ltd")
    form = alice_client.get(reverse("webmail:compose")).context["form"]
    assert form["text"].value() == "\n\n-- \nAlice\nExample Ltd\n"


def test_the_signature_is_set_in_the_account_settings(alice_client, alice):
    account = alice.mail_accounts.get()
    response = alice_client.post(reverse("webmail:account_edit", args=[account.id]),
                                 account_form_data(account, signature="Alice\r\nPhone 123"))
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.signature == "Alice\nPhone 123"


def test_undo_keeps_the_attachments_and_sends_those_still_ticked(alice_client, alice, settings):
    settings.UNDO_SEND_SECONDS = 10
    files = [SimpleUploadedFile("one.txt", b"one", content_type="text/plain"),
             SimpleUploadedFile("two.pdf", b"%PDF-1.4 two", content_type="application/pdf")]
    post(alice_client, alice.mail_accounts.get(), subject="With files", attachments=files)
    row = OutboxMessage.objects.get()
    location = alice_client.post(reverse("webmail:compose_undo"), {"outbox": row.id})["Location"]
    draft = alice.drafts.get()
    assert [(a.filename, a.content_type, bytes(a.data)) for a in draft.attachments.all()] == [
        ("one.txt", "text/plain", b"one"), ("two.pdf", "application/pdf", b"%PDF-1.4 two")]
    page = alice_client.get(location).content.decode()
    one, two = draft.attachments.all()
    assert f'name="keep" value="{one.id}"' in page and "one.txt (3\xa0bytes)" in page and "checked" in page
    response = post(alice_client, alice.mail_accounts.get(), subject="With files", draft=draft.id, keep=[two.id])
    assert response.status_code == 302
    sent = OutboxMessage.objects.exclude(id=row.id).get()
    assert [(p.get_filename(), p.get_content()) for p in parsed(sent).iter_attachments()] == [
        ("two.pdf", b"%PDF-1.4 two")]
    assert not alice.drafts.exists()


def test_kept_attachments_of_another_users_draft_cannot_be_sent(alice_client, alice, bob):
    from mailsite.mailboxes.models import Draft, DraftAttachment

    theirs = Draft.objects.create(user=bob, subject="Bob's")
    secret = DraftAttachment.objects.create(draft=theirs, filename="secret.txt", content_type="text/plain",
                                            data=b"secret", size=6)
    response = post(alice_client, alice.mail_accounts.get(), draft=theirs.id, keep=[secret.id])
    row = OutboxMessage.objects.first()
    assert response.status_code == 302 and b"secret" not in outbox_raw(row).split(b"\r\n\r\n", 1)[1]
    assert Draft.objects.filter(id=theirs.id).exists()  # and bob's draft is not deleted by alice's send
