"""Email.parse: never raises, keeps the raw bytes, bounds its work, decodes what it can."""

import os
import random
import time
from pathlib import Path

import pytest

from spooler.sessions import Email, limits

CORPUS = Path(os.environ.get("MAILSITE_CORPUS", "/work/shared/corpus"))
CORPUS_FILES = sorted((CORPUS / "eml").glob("*.eml")) + sorted((CORPUS / "eml-html").glob("*.eml"))
PARSE_SECONDS = 0.5  # per file; Python's email package needs seconds for some of these


def test_the_corpus_is_there():
    assert len(CORPUS_FILES) >= 40, f"corpus not found under {CORPUS}"


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_corpus_file_parses_quickly_and_keeps_raw(path):
    raw = path.read_bytes()
    start = time.perf_counter()
    parsed = Email.parse(raw)
    elapsed = time.perf_counter() - start
    assert elapsed < PARSE_SECONDS
    assert parsed.raw == raw
    for text in [parsed.subject, parsed.sender, *parsed.to, parsed.message_id or ""]:
        assert not set(text) & {"\r", "\n", "\x00"}
    assert "\x00" not in parsed.text and "\x00" not in (parsed.html or "")


def corpus(name):
    return Email.parse((CORPUS / "eml" / name).read_bytes())


def test_corpus_expectations():
    assert corpus("02-8bit-latin1-headers.eml").subject == "Café crème"
    assert corpus("02-8bit-latin1-headers.eml").sender == "René <rene@example.test>"
    unknown = corpus("03-unknown-charset.eml")
    assert unknown.subject == "café" and unknown.text.startswith("café")
    assert any("unknown charset" in d for d in unknown.defects)
    assert corpus("05-bad-base64.eml").text.startswith("Hello world")
    assert corpus("08-header-without-colon.eml").subject == "after the broken line"
    spoof = corpus("09-encoded-newline-in-from.eml")
    assert spoof.sender.endswith("<me@example.test>") and spoof.sender_address == "me@example.test"
    assert spoof.bcc == [] and spoof.defects
    deep = corpus("11-deep-nesting.eml")
    assert any("nesting deeper" in d for d in deep.defects)
    many = corpus("12-many-parts.eml")
    assert any("more than" in d for d in many.defects)
    assert corpus("13-traversal-filename.eml").attachments[0].filename == "../../../../etc/passwd"
    assert corpus("13-traversal-filename.eml").attachments[0].safe_filename == "passwd"
    rtl = corpus("14-rtl-filename.eml").attachments[0]
    assert rtl.filename == "invoice\u202efdp.exe" and rtl.safe_filename == "invoicefdp.exe"
    assert corpus("16-rfc2231-filename.eml").attachments[0].filename == "日本語.txt"
    forwarded = corpus("17-message-rfc822-attachment.eml").attachments[0]
    assert forwarded.content_type == "message/rfc822" and forwarded.data.startswith(b"From: inner@example.test")
    assert corpus("18-bare-lf.eml").text == "line one\nline two\n.\nafter a lone dot\n"
    assert corpus("19-empty.eml").raw == b""
    assert corpus("20-headers-only.eml").subject == "no body at all"
    assert corpus("21-address-tricks.eml").sender_address == "alice@a.example"
    assert corpus("22-utf8-body-declared-latin1.eml").text.startswith("déjà vu")


# --- our own nasty cases ---------------------------------------------------------------------------

def test_nul_bytes_and_control_characters():
    parsed = Email.parse(b"Subject: a\x00b\x07c\r\nFrom: x\x00@example.test\r\n\r\nbody\x00end\r\n")
    assert parsed.subject == "a b c"
    assert parsed.text == "body\ufffdend\n"
    assert parsed.defects


def test_8bit_utf8_header_is_read_as_utf8():
    assert Email.parse("Subject: Grüße\r\n\r\n".encode()).subject == "Grüße"


def test_unknown_and_dangerous_charsets_fall_back_without_losing_raw():
    for charset in ["x-unknown", "zlib", "base64", "rot13", "unicode-escape", "idna", "a" * 300]:
        raw = f"Content-Type: text/plain; charset={charset}\r\n\r\n".encode() + b"caf\xe9 \\x41"
        parsed = Email.parse(raw)
        assert parsed.text == "café \\x41" and parsed.raw == raw, charset


def test_rfc2047_with_unknown_charset_and_broken_words():
    parsed = Email.parse(b"Subject: =?x-bogus?B?Y2Fm6Q==?= =?utf-8?Q?ok?= =?utf-8?B?***?= =?utf-8?Q?trailing\r\n\r\n")
    assert parsed.subject.startswith("caféok")


def test_missing_boundary_parameter_reads_body_as_text():
    parsed = Email.parse(b"Content-Type: multipart/mixed\r\n\r\n--x\r\nhello\r\n")
    assert "hello" in parsed.text
    assert any("boundary" in d for d in parsed.defects)


def test_missing_closing_boundary_keeps_the_last_part():
    raw = (b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\none\r\n"
           b"--b\r\nContent-Type: text/plain\r\n\r\ntwo\r\n")
    parsed = Email.parse(raw)
    assert parsed.text == "one\ntwo\n"
    assert any("closing boundary" in d for d in parsed.defects)


def nested(depth):
    head = b"".join(b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (i, i) for i in range(depth))
    return head + b"Content-Type: text/plain\r\n\r\ndeepest\r\n"


def test_nesting_within_the_limit_is_read():
    assert Email.parse(nested(5), max_depth=5).text == "deepest\n"


def test_nesting_beyond_the_limit_is_cut_with_a_defect():
    parsed = Email.parse(nested(6), max_depth=5)
    assert parsed.text == "" and any("nesting deeper than 5" in d for d in parsed.defects)


def test_very_deep_nesting_is_fast():
    raw = nested(20000)
    start = time.perf_counter()
    parsed = Email.parse(raw)
    assert time.perf_counter() - start < 1.0
    assert any(f"deeper than {limits.MAX_DEPTH}" in d for d in parsed.defects)


def many_parts(count):
    part = b"--b\r\nContent-Type: application/octet-stream\r\n\r\nx\r\n"
    return b"Content-Type: multipart/mixed; boundary=b\r\n\r\n" + part * count + b"--b--\r\n"


def test_part_limit():
    assert len(Email.parse(many_parts(9), max_parts=10).attachments) == 9  # 9 leaves + the container
    limited = Email.parse(many_parts(50), max_parts=10)
    assert len(limited.attachments) == 9 and any("more than 10 MIME parts" in d for d in limited.defects)


def test_huge_part_count_is_fast():
    raw = many_parts(200_000)
    start = time.perf_counter()
    parsed = Email.parse(raw)
    assert time.perf_counter() - start < 1.0
    assert len(parsed.attachments) < limits.MAX_PARTS


@pytest.mark.parametrize("junk", [b" " * 99_000, b"a " * 49_000, b'"' * 99_000, b"(" * 99_000, b"a," * 49_000,
                                  b'a="' * 33_000, b"=?utf-8?q?a?= " * 7_000, b"\\" * 99_000])
def test_pathological_header_values_stay_linear(junk):
    fields = b"".join(name + b": x" + junk + b"\r\n" for name in (b"From", b"To", b"Subject", b"References"))
    raw = fields + b"Content-Type: text/plain; x" + junk + b"\r\n\r\nbody"
    start = time.perf_counter()
    Email.parse(raw)
    assert time.perf_counter() - start < PARSE_SECONDS


def test_header_line_length_limit():
    parsed = Email.parse(b"Subject: " + b"y" * 5000 + b"\r\n\r\nbody", max_line_length=1000)
    assert 990 < len(parsed.subject) <= 1000 and any("longer than 1000" in d for d in parsed.defects)


def test_header_block_size_limit():
    raw = b"X-Filler: " + b"z" * 3000 + b"\r\n" + b"Subject: late\r\n" * 100 + b"\r\nbody"
    parsed = Email.parse(raw, max_header_bytes=2000, max_line_length=10_000)
    assert parsed.raw == raw and any("header block longer" in d for d in parsed.defects)


def test_huge_body_line_is_kept_and_flagged():
    parsed = Email.parse(b"Subject: x\r\n\r\n" + b"a" * 200_000, max_line_length=100_000)
    assert len(parsed.text) == 200_000 and any("text line longer" in d for d in parsed.defects)


def test_header_count_limit():
    raw = b"".join(b"X-N%d: v\r\n" % n for n in range(limits.MAX_HEADERS + 50)) + b"Subject: late\r\n\r\nbody"
    parsed = Email.parse(raw)
    assert len(parsed.header_list) == limits.MAX_HEADERS and parsed.subject == ""
    assert any(f"more than {limits.MAX_HEADERS} header fields" in d for d in parsed.defects)


def test_bare_lf_and_mixed_line_endings():
    raw = b"Subject: lf\nContent-Type: multipart/mixed; boundary=q\n\n--q\nContent-Type: text/plain\r\n\r\nhi\n--q--\n"
    parsed = Email.parse(raw)
    assert parsed.subject == "lf" and parsed.text == "hi"


def test_filenames_are_given_as_sent():
    raw = (b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
           b"Content-Type: application/octet-stream; name=\"..\\\\..\\\\boot.ini\"\r\n\r\nx\r\n--b\r\n"
           b"Content-Disposition: attachment; filename=\"=?utf-8?b?4oCuZXhlLnR4dA==?=\"\r\n\r\ny\r\n--b--\r\n")
    first, second = Email.parse(raw).attachments
    assert first.filename == "..\\..\\boot.ini" and first.safe_filename == "boot.ini"
    assert second.filename == "\u202eexe.txt" and second.safe_filename == "exe.txt"


def test_quoted_printable_and_charset():
    raw = (b"Content-Type: text/plain; charset=iso-8859-15\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
           b"=A4 5=\r\n0")
    assert Email.parse(raw).text == "€ 50"


def test_date_and_identity_headers():
    raw = (b"Date: Thu, 26 Nov 2026 10:00:00 +0100\r\nMessage-ID:  <id@x.test> \r\n"
           b"In-Reply-To: junk <p@x.test> more\r\nReferences: <a@x> <b@x>\r\n <c@x>\r\nX-Priority: 5\r\n\r\n")
    parsed = Email.parse(raw)
    assert parsed.date.isoformat() == "2026-11-26T10:00:00+01:00"
    assert parsed.message_id == "<id@x.test>" and parsed.in_reply_to == "<p@x.test>"
    assert parsed.references == ["<a@x>", "<b@x>", "<c@x>"] and parsed.priority == "low"


def test_odd_senders_never_raise_on_access():
    for sender in [b"bad", b"<>", b"a@b, c@d", b"(only a comment)", b'"unterminated']:
        parsed = Email.parse(b"From: " + sender + b"\r\n\r\n")
        assert isinstance(parsed.sender_address, str) and isinstance(parsed.sender_name, str)
    assert Email.parse(b"From: a@b, c@d\r\n\r\n").sender_address == "a@b"


def test_dates_are_timezone_aware():
    assert Email.parse(b"Date: Thu, 26 Nov 2026 10:00:00 -0000\r\n\r\n").date.tzinfo is not None


def test_garbage_date_is_none_with_a_defect():
    parsed = Email.parse(b"Date: the day after tomorrow, 99:99\r\n\r\n")
    assert parsed.date is None and any("Date" in d for d in parsed.defects)


@pytest.mark.parametrize("raw", [None, "text, not bytes", bytearray(b"Subject: ba\r\n\r\n"),
                                 memoryview(b"Subject: mv\r\n"), 42])
def test_any_input_type_gives_an_email(raw):
    parsed = Email.parse(raw)
    assert isinstance(parsed, Email) and isinstance(parsed.raw, bytes)


def test_random_bytes_never_raise():
    rng = random.Random(1234)
    alphabet = b"\r\n\t :;=?\"<>@-_.()/\\abcXYZ019\x00\xff\xe9" + b"--b" * 5
    pieces = [b"Content-Type: multipart/mixed; boundary=b\r\n", b"Content-Transfer-Encoding: base64\r\n",
              b"--b\r\n", b"--b--\r\n", b"=?utf-8?q?x=", b"filename*0*=utf-8''%E2", b"\r\n\r\n"]
    for _ in range(400):
        raw = b"".join(rng.choice(pieces) if rng.random() < 0.3 else bytes(rng.choices(alphabet, k=rng.randint(0, 40)))
                       for _ in range(rng.randint(0, 30)))
        parsed = Email.parse(raw)
        assert parsed.raw == raw


def test_internal_failure_falls_back_to_raw_only(monkeypatch):
    from spooler.sessions import mimeparse

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(mimeparse._Parser, "message", broken)
    parsed = Email.parse(b"Subject: x\r\n\r\ny")
    assert parsed.raw == b"Subject: x\r\n\r\ny" and "parser failed" in parsed.defects[-1]


def test_small_message_parse_cost():
    raw = Email(sender="a@example.test", to=["b@example.test"], subject="s", text="hello\n" * 10).to_bytes()
    start = time.perf_counter()
    for _ in range(1000):
        Email.parse(raw)
    assert (time.perf_counter() - start) / 1000 < 0.001  # well under a millisecond each
