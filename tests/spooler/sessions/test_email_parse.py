"""Email.parse: never raises, keeps the raw bytes, bounds its work, decodes what it can.

No test here times the parser against a clock: work is counted (function calls, bytes handed to a step), growth
is compared between n and 8n in the same test, and a hang is caught by pytest-timeout. bench/parse.py prints the
times.
"""

import gc
import random
import sys
import time

import pytest

from spooler.sessions import Email, limits, mimeparse
from tests import corpus

CORPUS = corpus.all_mail()


def calls(fn):
    """How many Python and C functions fn() calls: a count of work that is the same on any machine, loaded or not."""
    count = 0

    def profile(frame, event, arg):
        nonlocal count
        if event in ("call", "c_call"):
            count += 1

    sys.setprofile(profile)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return count


def cpu_growth(small, big, rounds=5):
    """CPU time of big() over that of small(), each the best of `rounds`, garbage collection off: a ratio measured
    in one run, so the machine's speed and load cancel out. For what counting calls cannot see (a regex that
    backtracks is one C call)."""
    def best(fn):
        times = []
        for _ in range(rounds):
            start = time.thread_time()
            fn()
            times.append(time.thread_time() - start)
        return max(min(times), 1e-6)

    enabled = gc.isenabled()
    gc.disable()
    try:
        return best(big) / best(small)
    finally:
        if enabled:
            gc.enable()


def test_the_corpus_is_there():
    corpus.require(CORPUS, at_least=70)


@pytest.mark.timeout(60)  # a hang, not a speed: bench/parse.py prints how long each file takes
@pytest.mark.parametrize("case", CORPUS, ids=str)
def test_corpus_file_parses_in_bounded_work_and_keeps_raw(case):
    raw = case.data
    parsed = []
    work = calls(lambda: parsed.append(Email.parse(raw)))
    assert work <= 5_000 + len(raw) // 2, f"{work} calls for {len(raw)} bytes"  # no work per byte or per line
    parsed = parsed[0]
    assert parsed.raw == raw
    for text in [parsed.subject, parsed.sender, *parsed.to, *parsed.cc, *parsed.reply_to, parsed.message_id or ""]:
        assert not set(text) & {"\r", "\n", "\x00"}
    assert "\x00" not in parsed.text and "\x00" not in (parsed.html or "")


def own(name):
    return Email.parse(corpus.own(f"eml/{name}"))


def test_corpus_expectations():
    nul = own("01-nul-bytes.eml")
    assert nul.subject == "zero byte subject" and "\x00" not in nul.text and "\x00" not in nul.message_id
    assert any("without a valid name" in d for d in nul.defects)
    latin1 = own("02-latin1-headers.eml")
    assert latin1.subject == "Crème brûlée" and latin1.sender == "Zoë Krämer <zoe@example.test>"
    unknown = own("03-unknown-charset.eml")
    assert unknown.subject == "naïve" and unknown.text.startswith("naïve")
    assert any("unknown charset" in d for d in unknown.defects)
    never_used = own("04-boundary-never-used.eml")
    assert "the only part" in never_used.text and any("boundary never found" in d for d in never_used.defects)
    assert any("usable boundary" in d for d in own("05-no-boundary-parameter.eml").defects)
    assert own("06-bad-base64.eml").text.startswith("Coffee time")
    long_line = own("07-long-line.eml")
    assert len(long_line.text) > 1_000_000 and any("text line longer" in d for d in long_line.defects)
    assert own("08-long-header.eml").subject == "after a 20 kB header"
    assert own("09-header-without-colon.eml").subject == "found after the junk lines"
    spoof = own("10-encoded-newline-in-from.eml")
    assert spoof.sender.endswith("<friend@example.test>") and spoof.sender_address == "friend@example.test"
    assert spoof.bcc == [] and spoof.defects
    injected = own("11-crlf-injection-subject.eml")
    assert injected.subject.startswith("Invoice") and injected.bcc == [] and injected.to == ["reader@example.test"]
    assert injected.reply_to[0].endswith("<r@example.test>")
    assert any("nesting deeper" in d for d in own("13-deep-nesting.eml").defects)
    many = own("14-many-parts.eml")
    assert any(f"more than {limits.MAX_PARTS} MIME parts" in d for d in many.defects)
    headers = own("15-many-headers.eml")
    assert len(headers.header_list) == limits.MAX_HEADERS and any("header fields" in d for d in headers.defects)
    keys, ini = own("16-traversal-filenames.eml").attachments
    assert (keys.filename, keys.safe_filename) == ("../../../.ssh/authorized_keys", "authorized_keys")
    assert (ini.filename, ini.safe_filename) == ("..\\..\\Windows\\win.ini", "win.ini")
    rtl = own("17-rtl-override-filename.eml").attachments[0]
    assert rtl.filename == "photo\u202egnp.js" and rtl.safe_filename == "photognp.js"
    disguised = own("18-html-disguised-as-jpeg.eml").attachments[0]
    assert disguised.content_type == "image/jpeg" and disguised.data.startswith(b"<html>")
    assert [a.content_type for a in own("19-svg-attachment.eml").attachments] == ["image/svg+xml", "text/html"]
    assert own("20-rfc2231-filename.eml").attachments[0].filename == "отчёт.pdf"
    forwarded = own("21-message-rfc822-attachment.eml").attachments[0]
    assert forwarded.content_type == "message/rfc822" and forwarded.data.startswith(b"From: forwarded@example.test")
    assert own("22-bare-lf.eml").text == "first\nsecond\n.\n..two dots\nlast\n"
    empty = own("23-empty.eml")
    assert empty.raw == b"" and "empty message" in empty.defects
    assert own("24-headers-only.eml").subject == "nothing below the headers"
    tricks = own("25-address-tricks.eml")
    assert tricks.sender_address == "mallory@evil.example" and tricks.to == []
    assert own("26-unterminated-comment-from.eml").sender_address == "mallory@evil.example"
    assert own("27-utf8-body-declared-latin1.eml").text.startswith("naïve café — “quotes”")
    open_ended = own("28-multipart-never-closed.eml")
    assert open_ended.text == "first part" and len(open_ended.attachments) == 1
    assert any("closing boundary missing" in d for d in open_ended.defects)
    qp = own("29-qp-html-soft-breaks.eml").html  # decoded before anything cleans it: the cleaner sees the script
    assert "<script>alert(29)</script>" in qp and 'onerror="alert(29)"' in qp and "javascript:alert(29)" in qp
    assert any("invalid Content-Type" in d for d in own("31-invalid-content-type.eml").defects)
    assert own("32-unknown-transfer-encoding.eml").text.startswith("begin 644")
    control = own("33-control-characters-in-filename.eml").attachments[0]
    assert "\r\n" in control.filename and not set(control.safe_filename) & {"\r", "\n", "\x00", "/"}
    assert own("34-bidi-display-name.eml").sender_address == "mallory@evil.example"
    assert "inner text" in own("35-nested-same-boundary.eml").text
    assert own("36-long-folded-header.eml").subject.startswith("folded w w")


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


def examined(monkeypatch):
    """Count, during one parse, the parts walked and the bytes handed to the boundary scan of each multipart."""
    seen = {"walks": 0, "scanned": 0}
    walk, multipart = mimeparse._Parser.walk, mimeparse._Parser.multipart

    def counting_walk(self, headers, body, depth):
        seen["walks"] += 1
        return walk(self, headers, body, depth)

    def counting_multipart(self, body, boundary):
        seen["scanned"] += len(body)
        return multipart(self, body, boundary)

    monkeypatch.setattr(mimeparse._Parser, "walk", counting_walk)
    monkeypatch.setattr(mimeparse._Parser, "multipart", counting_multipart)
    return seen


@pytest.mark.timeout(60)
def test_very_deep_nesting_stops_at_the_depth_limit(monkeypatch):
    raw = nested(20000)
    seen = examined(monkeypatch)
    parsed = Email.parse(raw)
    assert any(f"deeper than {limits.MAX_DEPTH}" in d for d in parsed.defects)
    # Each level below the limit is scanned once, the 19,980 levels beyond it never.
    assert seen["walks"] == limits.MAX_DEPTH + 1
    assert seen["scanned"] <= limits.MAX_DEPTH * len(raw)


def many_parts(count):
    part = b"--b\r\nContent-Type: application/octet-stream\r\n\r\nx\r\n"
    return b"Content-Type: multipart/mixed; boundary=b\r\n\r\n" + part * count + b"--b--\r\n"


def test_part_limit():
    assert len(Email.parse(many_parts(9), max_parts=10).attachments) == 9  # 9 leaves + the container
    limited = Email.parse(many_parts(50), max_parts=10)
    assert len(limited.attachments) == 9 and any("more than 10 MIME parts" in d for d in limited.defects)


@pytest.mark.timeout(60)
def test_huge_part_count_costs_no_more_than_the_part_limit(monkeypatch):
    at_the_limit, huge = many_parts(limits.MAX_PARTS), many_parts(200_000)
    assert calls(lambda: Email.parse(huge)) <= calls(lambda: Email.parse(at_the_limit)) * 1.1
    seen = examined(monkeypatch)
    parsed = Email.parse(huge)
    assert seen["walks"] == limits.MAX_PARTS + 1 and len(parsed.attachments) < limits.MAX_PARTS


def pathological(junk):
    fields = b"".join(name + b": x" + junk + b"\r\n" for name in (b"From", b"To", b"Subject", b"References"))
    return fields + b"Content-Type: text/plain; x" + junk + b"\r\n\r\nbody"


@pytest.mark.timeout(120)  # quadratic work on these would take minutes
@pytest.mark.parametrize("junk", [b" " * 99_000, b"a " * 49_000, b'"' * 99_000, b"(" * 99_000, b"a," * 49_000,
                                  b'a="' * 33_000, b"=?utf-8?q?a?= " * 7_000, b"\\" * 99_000])
def test_pathological_header_values_stay_linear(junk):
    small, big = pathological(junk[:len(junk) // 8]), pathological(junk)  # n and 8n
    # Python-level work: 8 times the input, at most about 8 times the calls (quadratic would be 64).
    assert calls(lambda: Email.parse(big)) <= 10 * calls(lambda: Email.parse(small)) + 1_000
    # C-level work (a regex that backtracks is one call): the same growth in CPU time, within a wide margin.
    growth = cpu_growth(lambda: Email.parse(small), lambda: Email.parse(big))
    assert growth < 40, f"8 times the input took {growth:.0f} times the CPU time (linear: about 8, quadratic: 64)"


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
