"""Writes tests/corpus/eml/: the malformed messages, byte for byte (CRLF, NUL, 8-bit, bare LF, and the big ones).

Rerun after changing a case here, from the repository root, and commit what it writes:

    .venv/bin/python tests/corpus/generate.py

The tests read the committed files and never run this; tests/corpus/test_locator.py checks that the committed
files are what this script builds. The HTML bodies (tests/corpus/html/) are written by hand, not here.
"""
import base64
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATE = "Tue, 03 Mar 2026 09:30:00 +0000"


def message(slug, subject, *, headers=(), content_type="text/plain; charset=utf-8", body=b"", top=None):
    """One message with CRLF line ends. `top` replaces From/To when a case is about those."""
    lines = top if top is not None else [b"From: Corpus Sender <corpus@example.test>", b"To: reader@example.test"]
    lines = [*lines, b"Subject: " + _b(subject), b"Date: " + DATE.encode(),
             b"Message-ID: <" + slug.encode() + b"@corpus.mailsite.test>", b"MIME-Version: 1.0"]
    if content_type:
        lines.append(b"Content-Type: " + _b(content_type))
    lines += [_b(h) for h in headers]
    return b"\r\n".join(lines) + b"\r\n\r\n" + _b(body)


def multipart(boundary, *parts, close=True, preamble=b""):
    out = preamble
    for part in parts:
        out += b"--" + boundary + b"\r\n" + part + b"\r\n"
    return out + (b"--" + boundary + b"--\r\n" if close else b"")


def part(headers, body):
    return b"".join(_b(h) + b"\r\n" for h in headers) + b"\r\n" + _b(body)


def attachment(content_type, disposition, data):
    """A base64 part; `disposition` is one header line or a list of folded lines."""
    lines = [disposition] if isinstance(disposition, str) else disposition
    return part([f"Content-Type: {content_type}", *lines, "Content-Transfer-Encoding: base64"],
                base64.encodebytes(data).replace(b"\n", b"\r\n"))


def _b(value):
    return value if isinstance(value, bytes) else value.encode("utf-8")


# A 1x1 PNG.
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC")
TEXT = part(["Content-Type: text/plain; charset=utf-8"], "The attachment is below.\r\n")


def deep_nesting(depth):
    head = b"".join(b"--n%d\r\nContent-Type: multipart/mixed; boundary=n%d\r\n\r\n" % (i, i + 1) for i in range(depth))
    tail = b"".join(b"--n%d--\r\n" % i for i in reversed(range(depth + 1)))
    return head + b"--n%d\r\nContent-Type: text/plain\r\n\r\nat the bottom\r\n" % depth + tail


def build():
    """{file name: bytes} of every case in eml/."""
    cases = {}
    add = cases.__setitem__

    add("01-nul-bytes.eml", message(
        "nul\x00id", "zero\x00byte subject", headers=[b"X-Nul\x00Name: a NUL inside a field name"],
        body=b"text\x00with\x00NUL bytes\r\n"))
    add("02-latin1-headers.eml", message(
        "latin1", b"Cr\xe8me br\xfbl\xe9e", top=[b"From: Zo\xeb Kr\xe4mer <zoe@example.test>", b"To: reader@example.test"],
        body="Raw ISO-8859-1 bytes in From and Subject, no encoded words.\r\n"))
    add("03-unknown-charset.eml", message(
        "unknown-charset", "=?x-klingon?Q?na=EFve?=", content_type='text/plain; charset="x-klingon"',
        body=b"na\xefve, in a charset nobody knows\r\n"))
    add("04-boundary-never-used.eml", message(
        "boundary-never-used", "boundary declared but never used", content_type='multipart/mixed; boundary="expected"',
        body=multipart(b"actual", part(["Content-Type: text/plain"], "the only part, behind the wrong boundary"))))
    add("05-no-boundary-parameter.eml", message(
        "no-boundary", "multipart without a boundary", content_type="multipart/alternative",
        body="--x\r\nContent-Type: text/plain\r\n\r\nread as text\r\n--x--\r\n"))
    add("06-bad-base64.eml", message(
        "bad-base64", "bad base64", headers=["Content-Transfer-Encoding: base64"],
        body="Q29mZmVlIHRpbWU=@@@ not base64 %%%\r\nQ*Q*Q\r\n"))
    add("07-long-line.eml", message(
        "long-line", "one body line of 1 MB", body=b"0123456789abcdef" * 65536 + b"\r\n"))
    add("08-long-header.eml", message(
        "long-header", "after a 20 kB header", headers=[b"X-Filler: " + b"w" * 20_480]))
    add("09-header-without-colon.eml",
        b"From: corpus@example.test\r\nTo: reader@example.test\r\nthis header line has no colon at all\r\n"
        b": a field without a name\r\nBad Name: a space in the name\r\nSubject: found after the junk lines\r\n"
        b"\r\nbody\r\n")
    add("10-encoded-newline-in-from.eml", message(
        "encoded-newline", "encoded CRLF in From",
        top=[b"From: =?utf-8?B?" + base64.b64encode(b"Friend\r\nBcc: spy@evil.example\r\n") + b"?= <friend@example.test>",
             b"To: reader@example.test"],
        body="An encoded word that decodes to a new header line.\r\n"))
    add("11-crlf-injection-subject.eml", message(
        "crlf-injection", "=?utf-8?Q?Invoice=0D=0ABcc:_victim@example.net=0D=0A=0D=0Afake_body?=",
        headers=[b"X-Note: one\rBcc: carol@example.net", b"Reply-To: =?utf-8?Q?x=0D=0ATo:_all@example.net?= <r@example.test>"],
        body="Encoded CRLFs in Subject and Reply-To, a bare CR in another field.\r\n"))
    add("12-odd-message-id.eml",
        b"From: corpus@example.test\r\nTo: reader@example.test\r\nSubject: odd message-id\r\n"
        b"Message-ID: <<double@corpus.mailsite.test>> ]not-an-id[ (comment) \xe2\x80\x8b\r\n"
        b"In-Reply-To: <a@b\r\nReferences: <x@y> junk <<z@w>> <\r\n\r\nbody\r\n")
    add("13-deep-nesting.eml", message(
        "deep-nesting", "2000 nested multiparts", content_type="multipart/mixed; boundary=n0", body=deep_nesting(2000)))
    add("14-many-parts.eml", message(
        "many-parts", "20000 tiny parts", content_type="multipart/mixed; boundary=p",
        body=b"--p\r\n\r\nx\r\n" * 20_000 + b"--p--\r\n"))
    add("15-many-headers.eml",
        b"".join(b"X-Many-%04d: v\r\n" % n for n in range(3000))
        + b"From: corpus@example.test\r\nSubject: after 3000 header fields\r\n\r\nbody\r\n")
    add("16-traversal-filenames.eml", message(
        "traversal", "traversal filenames", content_type="multipart/mixed; boundary=t",
        body=multipart(b"t", TEXT,
                       attachment("text/plain", 'Content-Disposition: attachment; filename="../../../.ssh/authorized_keys"',
                                  b"ssh-ed25519 AAAA attacker\n"),
                       attachment('application/octet-stream; name="..\\\\..\\\\Windows\\\\win.ini"',
                                  "Content-Disposition: attachment", b"[boot]\n"))))
    add("17-rtl-override-filename.eml", message(
        "rtl-override", "rtl override filename", content_type="multipart/mixed; boundary=r",
        body=multipart(b"r", TEXT, attachment(
            "application/octet-stream", 'Content-Disposition: attachment; filename="photo\u202egnp.js"',
            b"alert('not a picture')\n"))))
    add("18-html-disguised-as-jpeg.eml", message(
        "disguised-jpeg", "html disguised as jpeg", content_type="multipart/mixed; boundary=j",
        body=multipart(b"j", TEXT, attachment(
            "image/jpeg", 'Content-Disposition: attachment; filename="holiday.jpg"',
            b"<html><body><script>alert(document.cookie)</script></body></html>"))))
    add("19-svg-attachment.eml", message(
        "svg-attachment", "svg attachment with script", content_type="multipart/mixed; boundary=s",
        body=multipart(b"s", TEXT, attachment(
            "image/svg+xml", 'Content-Disposition: inline; filename="logo.svg"',
            b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(19)"><script>alert(19)</script></svg>'),
            attachment("text/html", 'Content-Disposition: attachment; filename="page.html"',
                       b"<script>alert('html attachment')</script>"))))
    add("20-rfc2231-filename.eml", message(
        "rfc2231", "rfc2231 filename in two sections", content_type="multipart/mixed; boundary=c",
        body=multipart(b"c", TEXT, attachment(
            "application/pdf", ["Content-Disposition: attachment;",
                                " filename*0*=utf-8'ru'%D0%BE%D1%82%D1%87%D1%91%D1%82;", " filename*1=.pdf"],
            b"%PDF-1.4\n%%EOF\n"))))
    add("21-message-rfc822-attachment.eml", message(
        "forwarded", "a forwarded message inside", content_type="multipart/mixed; boundary=f",
        body=multipart(b"f", TEXT, part(
            ["Content-Type: message/rfc822", "Content-Disposition: attachment"],
            b"From: forwarded@example.test\r\nSubject: the inner one\r\nContent-Type: multipart/mixed; boundary=g\r\n"
            b"\r\n--g\r\nContent-Type: text/plain\r\n\r\ninner text\r\n--g--\r\n"))))
    add("22-bare-lf.eml",
        b"From: corpus@example.test\nTo: reader@example.test\nSubject: bare LF everywhere\n\n"
        b"first\nsecond\n.\n..two dots\nlast\n")
    add("23-empty.eml", b"")
    add("24-headers-only.eml", b"From: corpus@example.test\r\nSubject: nothing below the headers")
    add("25-address-tricks.eml", message(
        "address-tricks", "address tricks",
        top=[b'From: "ceo@bank.example" <mallory@evil.example>', b"To: undisclosed-recipients:;",
             b"Cc: a@b.example (<c@d.example>, <>, @, \"unterminated"],
        body="The display name is an address; To is an empty group; Cc is junk.\r\n"))
    add("26-unterminated-comment-from.eml", message(
        "unterminated-comment", "unterminated comment in From",
        top=[b'From: mallory@evil.example (Bank "support" <support@bank.example>', b"To: reader@example.test"]))
    add("27-utf8-body-declared-latin1.eml", message(
        "wrong-charset", "utf-8 body declared latin1", content_type="text/plain; charset=iso-8859-1",
        body="naïve café — “quotes”\r\n"))
    add("28-multipart-never-closed.eml", message(
        "never-closed", "multipart whose end never comes", content_type="multipart/mixed; boundary=open",
        body=multipart(b"open", part(["Content-Type: text/plain"], "first part"),
                       part(["Content-Type: application/octet-stream", "Content-Transfer-Encoding: base64"],
                            "AAECAwQFBgcICQoLDA0ODx"), close=False)))
    add("29-qp-html-soft-breaks.eml", message(
        "qp-html", "quoted-printable html split by soft breaks", content_type="text/html; charset=utf-8",
        headers=["Content-Transfer-Encoding: quoted-printable"],
        body="<p>hello</p><scr=\r\nipt>alert(29)</scr=\r\nipt><img src=3Dx on=\r\nerror=3D\"alert(29)\">"
             "<a href=3D\"java=\r\nscript:alert(29)\">link</a><img src=3D\"http://remote.exa=\r\nmple/qp.gif\">\r\n"))
    add("30-utf7.eml", message(
        "utf7", "=?utf-7?Q?+ADw-script+AD4-alert(30)+ADw-/script+AD4-?=", content_type="text/html; charset=utf-7",
        body="+ADw-img src+AD0-x onerror+AD0-alert(30)+AD4-\r\n"))
    add("31-invalid-content-type.eml", message(
        "invalid-content-type", "invalid content type", content_type='text/html/../x; charset="unterminated',
        body="<b>read as plain text</b>\r\n"))
    add("32-unknown-transfer-encoding.eml", message(
        "unknown-cte", "unknown transfer encoding", headers=["Content-Transfer-Encoding: x-uuencode"],
        body="begin 644 a.txt\r\n#86)C\r\n`\r\nend\r\n"))
    add("33-control-characters-in-filename.eml", message(
        "control-filename", "control characters in a filename", content_type="multipart/mixed; boundary=k",
        body=multipart(b"k", TEXT, attachment(
            "text/plain", "Content-Disposition: attachment; filename*=utf-8''evil%0D%0AContent-Type%3A%20text%2Fhtml%00.txt",
            b"just text\n"))))
    add("34-bidi-display-name.eml", message(
        "bidi-name", "bidi override in the display name",
        top=['From: "\u202emoc.knab@troppus" <mallory@evil.example>'.encode(), b"To: reader@example.test"]))
    add("35-nested-same-boundary.eml", message(
        "same-boundary", "inner multipart reuses the outer boundary", content_type="multipart/mixed; boundary=same",
        body=multipart(b"same", part(["Content-Type: multipart/alternative; boundary=same"],
                                     multipart(b"same", part(["Content-Type: text/plain"], "inner text"))),
                       part(["Content-Type: text/plain"], "outer text"))))
    add("36-long-folded-header.eml", message(
        "folded", "folded" + "\r\n w" * 5000, body="A subject folded over 5,000 lines.\r\n"))
    add("37-plain-text-linkify-tricks.eml", message(  # Roundcube CVE-2020-35730: markup through linkified text
        "linkify", "plain text that tries to break out of its links", body=(
            'See http://remote.example/"><script>alert(37)</script> and www.remote.example/?q="onmouseover=alert(37)//\r\n'
            'Mail me at evil"onclick=alert(37)"@remote.example or <a href="javascript:alert(37)">here</a>\r\n'
            "javascript:alert(37) http://remote.example/a'b`c<img src=x onerror=alert(37)>\r\n"
            "> quoted <script>alert(37)</script> https://remote.example/quoted\r\n"
            "> > deeper\r\n"
            "The end.\r\n")))
    add("38-inline-cid-parts.eml", message(  # the HTML's own images by cid:, a disguised one, a missing one
        "cid-parts", "html with inline cid parts", content_type="multipart/related; boundary=rel",
        body=multipart(
            b"rel",
            part(["Content-Type: text/html; charset=utf-8"],
                 '<p>Logo: <img src="cid:logo@corpus.mailsite.test" alt="logo" width="1" height="1"></p>'
                 '<p>Disguised: <img src="cid:fake@corpus.mailsite.test" alt="fake"></p>'
                 '<p>Missing: <img src="cid:missing@corpus.mailsite.test" alt="missing"></p>\r\n'),
            attachment("image/png", ["Content-ID: <logo@corpus.mailsite.test>", "Content-Disposition: inline"],
                       PNG),
            attachment("image/png", ["Content-ID: <fake@corpus.mailsite.test>", "Content-Disposition: inline"],
                       b"<script>alert(38)</script>"),
            attachment("text/plain", 'Content-Disposition: attachment; filename="notes.txt"', b"a real file\n"))))
    return cases


def main():
    out = HERE / "eml"
    out.mkdir(exist_ok=True)
    cases = build()
    for stale in set(p.name for p in out.glob("*.eml")) - set(cases):
        (out / stale).unlink()
    for name, data in cases.items():
        (out / name).write_bytes(data)
    print(f"{len(cases)} files, {sum(map(len, cases.values())):,} bytes in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
