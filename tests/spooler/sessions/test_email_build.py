"""Email.to_bytes: RFC 5322 output, stable identity, encodings, and refusal of header injection."""

import datetime
import email
import email.policy
import re

import pytest

from spooler.sessions import Attachment, Email


def make(**overrides):
    fields = dict(sender="Alice <alice@example.test>", to=["bob@example.test"], subject="Hello", text="Hi Bob")
    fields.update(overrides)
    return Email(**fields)


def test_output_uses_crlf_only_and_short_lines():
    raw = make(text="a\nb\n" + "word " * 400, subject="s " * 100).to_bytes()
    assert b"\r\n" in raw
    assert re.search(rb"(?<!\r)\n", raw) is None, "bare LF in output"
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert max(len(line) for line in head.split(b"\r\n")) <= 78


def test_output_is_7bit_ascii_for_non_ascii_content():
    raw = make(sender="Zoë <zoe@example.test>", subject="Grüße", text="Ünïcödé 日本").to_bytes()
    assert raw.isascii()


def test_message_id_and_date_are_stable_for_the_same_email():
    msg = make()
    first = msg.to_bytes()
    assert msg.message_id and msg.message_id.endswith("@example.test>")
    assert msg.to_bytes() == first
    assert make().to_bytes() != first  # another Email gets another Message-ID


def test_given_message_id_and_date_are_used():
    date = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    raw = make(message_id="<fixed@example.test>", date=date).to_bytes()
    assert b"Message-ID: <fixed@example.test>\r\n" in raw
    assert b"Date: Fri, 02 Jan 2026 03:04:05 +0000\r\n" in raw


def test_bcc_is_an_envelope_recipient_but_not_a_header():
    msg = make(to=["bob@example.test"], cc=["Carol <carol@example.test>"],
               bcc=["dave@example.test", "BOB@example.test"])
    raw = msg.to_bytes()
    assert b"dave@example.test" not in raw
    # No Bcc field at the start of any line (a random boundary or Message-ID may contain the letters "bcc").
    assert not any(line.lower().startswith(b"bcc") for line in raw.split(b"\r\n"))
    assert msg.envelope_recipients() == ["bob@example.test", "carol@example.test", "dave@example.test",
                                         "BOB@example.test"]


def test_envelope_recipients_are_deduplicated_and_idna_encoded():
    msg = make(to=["bob@Example.test", "bob@example.TEST", "jo@exämple.test"])
    assert msg.envelope_recipients() == ["bob@example.test", "jo@xn--exmple-cua.test"]


def test_round_trip_with_non_ascii_everywhere():
    msg = Email(
        sender="Zoë Ärger <zoe@example.test>",
        to=['"Müller, Jürgen" <jm@example.test>'],
        reply_to=["Ré <re@example.test>"],
        subject="Grüße aus Köln — ✓ " + "long " * 20,
        text="Hällo Wörld\n.\nline starting with a dot above\n",
        html="<p>Hällo <b>Wörld</b></p>",
        attachments=[Attachment("résumé 日本語 " + "x" * 80 + ".pdf", "application/pdf", b"%PDF\x00\xff" * 50)],
        in_reply_to="<parent@example.test>",
        references=["<root@example.test>", "parent@example.test"],
        priority="high",
        headers={"X-Mailer": "Mailsite ✓"},
    )
    back = Email.parse(msg.to_bytes())
    assert back.defects == []
    assert back.sender == "Zoë Ärger <zoe@example.test>"
    assert back.to == ['"Müller, Jürgen" <jm@example.test>']
    assert back.reply_to == ["Ré <re@example.test>"]
    assert back.subject == msg.subject.strip()
    assert back.text == msg.text
    assert back.html.strip() == msg.html
    [att] = back.attachments
    assert (att.filename, att.content_type, att.data) == (msg.attachments[0].filename, "application/pdf",
                                                          msg.attachments[0].data)
    assert back.message_id == msg.message_id
    assert back.in_reply_to == "<parent@example.test>"
    assert back.references == ["<root@example.test>", "<parent@example.test>"]
    assert back.priority == "high"
    assert back.headers["x-mailer"] == "Mailsite ✓"
    assert back.date == msg.date


def test_python_email_package_reads_our_output():
    msg = make(subject="Grüße", attachments=[Attachment("ä.txt", "text/plain", "ä".encode())])
    parsed = email.message_from_bytes(msg.to_bytes(), policy=email.policy.default)
    assert parsed["subject"] == "Grüße"
    assert [p.get_filename() for p in parsed.iter_attachments()] == ["ä.txt"]


def test_inline_image_goes_into_multipart_related_with_content_id():
    logo = Attachment("logo.png", "image/png", b"\x89PNG", content_id="logo")
    msg = make(html='<img src="cid:logo">', attachments=[logo])
    raw = msg.to_bytes()
    assert b"multipart/related" in raw and b"Content-ID: <logo>" in raw
    [att] = Email.parse(raw).attachments
    assert att.content_id == "logo" and att.data == b"\x89PNG"


def test_html_only_message():
    back = Email.parse(make(text="", html="<p>only html</p>").to_bytes())
    assert back.text == "" and "only html" in back.html


def test_boundaries_never_collide_with_content():
    msg = make(text="--=_ not a boundary\n", attachments=[Attachment("a.bin", "application/octet-stream", b"x")])
    back = Email.parse(msg.to_bytes())
    assert back.text == "--=_ not a boundary\n" and len(back.attachments) == 1


@pytest.mark.parametrize("field,value", [
    ("subject", "Hello\r\nBcc: victim@example.test"),
    ("subject", "Hello\nX-Evil: 1"),
    ("to", ["bob@example.test\r\nBcc: victim@example.test"]),
    ("sender", "Alice <alice@example.test>\nBcc: victim@example.test"),
    ("cc", ["carol@example.test>\rRCPT TO:<x@example.test"]),
    ("headers", {"X-Test": "a\r\nBcc: victim@example.test"}),
    ("headers", {"X-Bad\r\nBcc": "x"}),
    ("attachments", [Attachment("a\r\nContent-Type: text/html", "text/plain", b"x")]),
    ("in_reply_to", "<a@b>\r\nBcc: x@y"),
    # The last line of defence behind the forms: every separator str.splitlines() knows, and other controls.
    *[("subject", f"Hello{ch}Bcc: victim@example.test") for ch in "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029\x00\x1b\x7f"],
    ("sender", "Alice\u2028Bcc: victim@example.test <alice@example.test>"),
    ("to", ['"bob\r\nBcc: victim@example.test"@example.test']),
])
def test_header_injection_is_rejected(field, value):
    msg = make(**{field: value})
    with pytest.raises(ValueError):
        msg.to_bytes()


@pytest.mark.parametrize("field,value", [
    ("to", ["not an address"]),
    ("to", ["a@example.test, b@example.test"]),  # two addresses in one entry
    ("to", []),
    ("sender", ""),
    ("headers", {"Content-Type": "text/html"}),
    ("headers", {"From": "mallory@example.test"}),
    ("priority", "urgent!"),
    ("attachments", [Attachment("a", "not a type", b"")]),
    ("to", ["jörg@example.test"]),  # non-ASCII local part needs SMTPUTF8
])
def test_invalid_fields_are_rejected(field, value):
    with pytest.raises(ValueError):
        make(**{field: value}).to_bytes()


@pytest.mark.parametrize("given,safe", [
    ("../../../../etc/passwd", "passwd"),
    ("..\\..\\windows\\system32\\cmd.exe", "cmd.exe"),
    ("invoice\u202efdp.exe", "invoicefdp.exe"),
    ("re\u200bport\u2066.pdf", "report.pdf"),
    ("a\x00b\r\nc.txt", "abc.txt"),
    ('what?<>:"|*.txt', "what_______.txt"),
    ("...", "attachment"),
    ("", "attachment"),
    (None, "attachment"),
    ("CON.txt", "_CON.txt"),
    (" .hidden ", "hidden"),
    ("日本語.txt", "日本語.txt"),
])
def test_safe_filename(given, safe):
    assert Attachment(given, "text/plain", b"").safe_filename == safe


def test_safe_filename_is_bounded_and_keeps_the_extension():
    name = Attachment("é" * 500 + ".pdf", "application/pdf", b"").safe_filename
    assert name.endswith(".pdf") and len(name.encode()) <= 200


def test_display_names_with_specials_are_quoted_when_built():
    for sender in [("Doe, John", "john@example.test"), '"Doe, John" <john@example.test>']:
        raw = make(sender=sender).to_bytes()
        assert b'From: "Doe, John" <john@example.test>\r\n' in raw
        [address] = email.message_from_bytes(raw, policy=email.policy.default)["From"].addresses
        assert (address.display_name, address.addr_spec) == ("Doe, John", "john@example.test")
    raw = make(sender=('Mallory "The Boss" <m@example.test>, x@example.test', "m@example.test")).to_bytes()
    [address] = email.message_from_bytes(raw, policy=email.policy.default)["From"].addresses
    assert address.display_name == 'Mallory "The Boss" <m@example.test>, x@example.test'


def test_non_ascii_display_names_are_rfc2047_words_on_short_lines():
    name = "Zoë, Ärger " * 12
    raw = make(sender=(name, "zoe@example.test")).to_bytes()
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert head.isascii() and b"=?utf-8?" in head and max(len(line) for line in head.split(b"\r\n")) <= 78
    assert Email.parse(raw).sender_name == name.strip()


@pytest.mark.parametrize("text", ["=?utf-8?q?abc?=", "=??Q??=", 'x =?" y', "=?utf-8?b?w6k=?= é"])
def test_text_that_looks_like_an_encoded_word_reaches_the_reader_as_typed(text):
    raw = make(sender=(text, "alice@example.test"), subject=text).to_bytes()
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["Subject"] == text and Email.parse(raw).subject == text
    assert msg["From"].addresses[0].display_name == text


def test_quoted_local_parts_and_address_literals_are_written_and_enveloped():
    msg = make(to=['"john doe"@example.test', '"bob"@example.test', "bob@[127.0.0.1]"],
               cc=["Carol <carol@[::1]>", '".dot"@example.test'])
    raw = msg.to_bytes()
    assert b'To: "john doe"@example.test, bob@example.test, bob@[127.0.0.1]\r\n' in raw
    assert b'Cc: Carol <carol@[IPv6:::1]>, ".dot"@example.test\r\n' in raw
    assert msg.envelope_recipients() == ['"john doe"@example.test', "bob@example.test", "bob@[127.0.0.1]",
                                         "carol@[IPv6:::1]", '".dot"@example.test']
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert [(a.username, a.domain) for a in parsed["To"].addresses + parsed["Cc"].addresses] == [
        ("john doe", "example.test"), ("bob", "example.test"), ("bob", "[127.0.0.1]"),
        ("carol", "[IPv6:::1]"), (".dot", "example.test")]
    back = Email.parse(raw)
    assert back.to == ['"john doe"@example.test', "bob@example.test", "bob@[127.0.0.1]"]
    assert back.cc == ["Carol <carol@[IPv6:::1]>", '".dot"@example.test']


def test_envelope_sender_is_the_address_as_mail_from_carries_it():
    assert make(sender='"Doe, John" <"john doe"@exämple.test>').envelope_sender() == '"john doe"@xn--exmple-cua.test'
    assert make(sender="bounce@[192.0.2.1]").envelope_sender() == "bounce@[192.0.2.1]"
