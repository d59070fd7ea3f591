"""A bounded MIME parser behind Email.parse.

Python's email package raises on some hostile input and does work proportional to lines x depth on
deeply nested mail. This parser slices bytes with C-level searches instead, stops at named limits
(depth, parts, header size, header line length), records what it skipped as defects, and always
returns an Email that keeps the exact raw bytes.
"""

import binascii
import datetime
import email.utils
import re

from . import limits
from .parts import Attachment
from .headers import clean, decode_text, decode_words, format_address, header_str, parse_addresses, parse_params

_HEAD_END = re.compile(rb"\r?\n\r?\n")
# One field: name, optional blanks, colon, then the value with its folded continuation lines.
_FIELD = re.compile(rb"([^\s:]+)[ \t]*:([^\n]*(?:\n[ \t][^\n]*)*)(?:\n|$)")
_FOLD = re.compile(rb"\r?\n")
_FIELD_TEXT = re.compile(r"([!-9;-~]+)[ \t]*:([^\n]*(?:\n[ \t][^\n]*)*)(?:\n|$)")
_FIELDS_ONLY = re.compile(r"(?:[!-9;-~]+[ \t]*:[^\n]*(?:\n[ \t][^\n]*)*(?:\n|$))*")
_FOLD_TEXT = re.compile(r"\r?\n")
_HEADER_NAME = re.compile(rb"^[!-9;-~]+$")
_CONTENT_TYPE = re.compile(r"^[a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+-]+$")
_MSG_IDS = re.compile(r"<[^<>\s]+>")
_NOT_BASE64 = re.compile(rb"[^A-Za-z0-9+/]")
_BASE64_JUNK = re.compile(rb"[^A-Za-z0-9+/=\s]")
_BOUNDARY_MAX = 200


def parse(cls, raw, *, max_depth=limits.MAX_DEPTH, max_parts=limits.MAX_PARTS,
          max_line_length=limits.MAX_LINE_LENGTH, max_header_bytes=limits.MAX_HEADER_BYTES):
    """Parse ``raw`` into ``cls`` (an Email). Never raises; ``.raw`` is the input, ``.defects`` lists problems."""
    data, defects = _as_bytes(raw)
    try:
        parser = _Parser(max_depth, max_parts, max_line_length, max_header_bytes)
        parser.defects.extend(defects)
        return parser.message(cls, data)
    except Exception as exc:  # the last guard: a message must be storable whatever its content
        result = cls()
        result.raw = data
        result.defects = defects + [f"parser failed ({type(exc).__name__}); only the raw message is kept"]
        return result


def _as_bytes(raw):
    if isinstance(raw, bytes):
        return raw, []
    if isinstance(raw, (bytearray, memoryview)):
        return bytes(raw), []
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape"), ["message given as text, encoded as UTF-8"]
    return b"", [f"not a message: {type(raw).__name__}"]


class _Parser:
    def __init__(self, max_depth, max_parts, max_line_length, max_header_bytes):
        self.max_depth, self.max_parts = max_depth, max_parts
        self.max_line, self.max_head = max_line_length, max_header_bytes
        self.defects, self.parts, self.full = [], 0, False
        self.texts, self.html, self.attachments = [], None, []

    def defect(self, text):
        if text not in self.defects:
            self.defects.append(text)

    # --- the whole message -------------------------------------------------------------------------

    def message(self, cls, data):
        if not data.strip():
            self.defect("empty message")
        fields, body = self.split(data)
        top = _index(fields)
        result = cls()
        result.raw = data
        result.header_list = [(name, _display(value)) for name, value in fields]
        result.headers = _index(result.header_list)
        self.addresses(result, top)
        result.subject = self.unstructured("Subject", top.get("subject", "")).strip()
        result.date = self.date(top.get("date"))
        result.message_id = clean(top.get("message-id", "")).strip() or None
        in_reply_to = _MSG_IDS.findall(top.get("in-reply-to", ""))
        result.in_reply_to = in_reply_to[0] if in_reply_to else None
        result.references = _MSG_IDS.findall(top.get("references", ""))[:limits.MAX_HEADERS]
        result.priority = _priority(top)
        self.walk(top, body, 0)
        result.text = "\n".join(self.texts)
        result.html = self.html
        result.attachments = self.attachments
        result.defects = self.defects
        return result

    def addresses(self, result, top):
        for field, attr in (("from", "sender"), ("to", "to"), ("cc", "cc"), ("bcc", "bcc"), ("reply-to", "reply_to")):
            value = top.get(field)
            if not value:
                continue
            pairs = parse_addresses(value)
            if value and decode_words(value) != clean(decode_words(value)):
                self.defect(f"control characters in {field.title()} removed")
            formatted = [format_address(name, addr) for name, addr in pairs]
            setattr(result, attr, (formatted[0] if formatted else "") if attr == "sender" else formatted)

    def unstructured(self, name, value):
        if value.isprintable() and "=?" not in value:
            return value
        decoded = decode_words(value)
        cleaned = clean(decoded)
        if cleaned != decoded:
            self.defect(f"control characters in {name} removed")
        return cleaned

    def date(self, value):
        if not value:
            return None
        try:
            date = email.utils.parsedate_to_datetime(value)
            # "-0000" means "zone unknown" and comes back naive; callers get aware datetimes only.
            return date if date.tzinfo else date.replace(tzinfo=datetime.timezone.utc)
        except Exception:  # parsedate raises several types on garbage
            self.defect("unreadable Date header")
            return None

    # --- headers -----------------------------------------------------------------------------------

    def split(self, data):
        """Split one entity into ([(name, value str)], body bytes)."""
        if data.startswith(b"\n") or data.startswith(b"\r\n"):
            return [], data[data.index(b"\n") + 1:]
        match = _HEAD_END.search(data, 0, self.max_head)
        if match:
            head, body = data[:match.start()], data[match.end():]
        elif len(data) <= self.max_head:
            head, body = data, b""
        else:
            self.defect(f"header block longer than {self.max_head} bytes; the rest is ignored")
            cut = data.rfind(b"\n", 0, self.max_head) + 1 or self.max_head
            head, body = data[:cut], b""
        return self.fields(head), body

    def fields(self, head):
        # Fast path for the usual block: ASCII, every line a field, nothing too long. Two C-level passes.
        if head.isascii() and len(head) <= self.max_line:
            text = head.decode("ascii")
            if _FIELDS_ONLY.fullmatch(text):
                pairs = _FIELD_TEXT.findall(text)
                if len(pairs) <= limits.MAX_HEADERS:
                    return [(name, _FOLD_TEXT.sub("", value).strip() if "\n" in value else value.strip())
                            for name, value in pairs]
        return self.fields_slowly(head)

    def fields_slowly(self, head):
        result, pos, end = [], 0, len(head)
        while pos < end:
            match = _FIELD.match(head, pos)
            if match is None or not _HEADER_NAME.match(match.group(1)):
                newline = head.find(b"\n", pos)
                if head[pos:newline if newline >= 0 else end].strip():
                    self.defect("header line without a valid name skipped")
                pos = end if newline < 0 else newline + 1
                continue
            pos = match.end()
            if len(result) >= limits.MAX_HEADERS:
                self.defect(f"more than {limits.MAX_HEADERS} header fields; the rest is ignored")
                break
            name, value = match.group(1).decode("ascii"), match.group(2)
            if b"\n" in value:
                value = _FOLD.sub(b"", value)  # unfolding removes the line break, keeps the whitespace
            if len(value) > self.max_line:
                self.defect(f"header {name} longer than {self.max_line} bytes was cut")
                value = value[:self.max_line]
            if not value.isascii():
                self.defect(f"8-bit bytes in header {name}")
            result.append((name, header_str(value).strip()))
        return result

    # --- body --------------------------------------------------------------------------------------

    def walk(self, headers, body, depth):
        if self.full:
            return
        self.parts += 1
        if self.parts > self.max_parts:
            self.full = True
            self.defect(f"more than {self.max_parts} MIME parts; the rest is not parsed")
            return
        get = headers.get
        ctype, params = parse_params(get("content-type") or "text/plain")
        if not _CONTENT_TYPE.match(ctype):
            self.defect(f"invalid Content-Type {ctype[:60]!r} read as text/plain")
            ctype, params = "text/plain", {}
        if ctype.startswith("multipart/"):
            if depth >= self.max_depth:
                self.defect(f"MIME nesting deeper than {self.max_depth}; inner parts not parsed")
                return
            children = self.multipart(body, params.get("boundary"))
            if children is not None:
                for child in children:
                    child_fields, child_body = self.split(child)
                    self.walk(_index(child_fields), child_body, depth + 1)
                return
            ctype, params = "text/plain", {}
        self.leaf(get, ctype, params, body)

    def multipart(self, body, boundary):
        """The bodies of the parts, or None when the boundary is missing or never used."""
        if not boundary or len(boundary) > _BOUNDARY_MAX:
            self.defect("multipart without a usable boundary read as text")
            return None
        delimiter = re.compile(rb"^--" + re.escape(boundary.encode("utf-8")) + rb"(--)?[ \t]*\r?$", re.M)
        parts, start, room = [], None, self.max_parts - self.parts
        for match in delimiter.finditer(body):
            if start is not None:
                end = match.start()
                end -= 2 if body[end - 2:end] == b"\r\n" else 1 if body[end - 1:end] == b"\n" else 0
                parts.append(body[start:max(start, end)])
                if len(parts) > room:
                    break
            if match.group(1):
                return parts
            start = match.end() + 1
        if start is None:
            self.defect("multipart boundary never found; body read as text")
            return None
        if len(parts) <= room:
            self.defect("multipart closing boundary missing")
            parts.append(body[start:])
        return parts

    def leaf(self, get, ctype, params, body):
        disposition, dparams = parse_params(get("content-disposition")) if get("content-disposition") else ("", {})
        filename = dparams.get("filename", params.get("name"))
        data = self.transfer_decode((get("content-transfer-encoding") or "").strip().lower(), body)
        if ctype in ("text/plain", "text/html") and disposition != "attachment" and filename is None:
            text = self.text(data, params.get("charset"))
            if ctype == "text/plain":
                self.texts.append(text)
                return
            if self.html is None:
                self.html = text
                return
        content_id = clean(get("content-id") or "").strip().strip("<>") or None
        if filename is not None:
            filename = filename.replace("\x00", "\ufffd")
        self.attachments.append(Attachment(filename=filename, content_type=ctype, data=data, content_id=content_id))

    def transfer_decode(self, cte, body):
        if cte == "base64":
            if _BASE64_JUNK.search(body):
                self.defect("invalid characters in base64 ignored")
            try:
                return binascii.a2b_base64(body)
            except (binascii.Error, ValueError):
                self.defect("invalid base64 repaired")
                chars = _NOT_BASE64.sub(b"", body)
                if len(chars) % 4 == 1:  # a lone trailing character carries no whole byte
                    chars = chars[:-1]
                return binascii.a2b_base64(chars + b"=" * (-len(chars) % 4))
        if cte == "quoted-printable":
            return binascii.a2b_qp(body)
        if cte not in ("", "7bit", "8bit", "binary"):
            self.defect(f"unknown Content-Transfer-Encoding {cte[:40]!r}; kept as is")
        return body

    def text(self, data, charset):
        text, problem = decode_text(data, charset)
        if problem:
            self.defect(problem)
        if "\x00" in text:
            self.defect("NUL bytes in text replaced")
            text = text.replace("\x00", "\ufffd")
        if len(text) > self.max_line and max(map(len, text.split("\n"))) > self.max_line:
            self.defect(f"text line longer than {self.max_line} characters")
        return text.replace("\r\n", "\n").replace("\r", "\n")


def _index(fields):
    """{lower-case name: value} keeping the first occurrence of each field."""
    return {name.lower(): value for name, value in reversed(fields)}


def _display(value):
    """A header value as shown: encoded words decoded, controls removed."""
    if "=?" in value:
        value = decode_words(value)
    return value if value.isprintable() else clean(value)


def _priority(top):
    value = (top.get("x-priority") or top.get("importance") or top.get("priority") or "").strip().lower()
    if value[:1] in ("1", "2") or value in ("high", "urgent"):
        return "high"
    if value[:1] in ("4", "5") or value in ("low", "non-urgent"):
        return "low"
    return "normal" if value else None
