"""Header-level helpers shared by building and parsing: charsets, RFC 2047 words, addresses, parameters.

Everything here is linear in its input and never raises on malformed text.
"""

import binascii
import codecs
import re
import urllib.parse

# Codecs that are not charsets: decoding mail with them would decompress, unescape or mangle.
_NOT_CHARSETS = {"idna", "punycode", "unicode-escape", "raw-unicode-escape", "undefined"}
_CHARSET_NAME = re.compile(r"^[A-Za-z0-9._:+-]{1,40}$")

# C0/C1 controls (tab excepted), DEL, and line/paragraph separators: never kept in a header value.
_CONTROLS = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")
_ENCODED_WORD = re.compile(r"=\?([^?\s]{1,60})\?([QqBb])\?([^?\s]*)\?=")
_BETWEEN_WORDS = re.compile(r"(\?=)[ \t]+(=\?)")


def lookup_charset(name):
    """The Python codec name for a MIME charset label, or None when unknown or not a text charset."""
    if not name or not _CHARSET_NAME.match(name):
        return None
    try:
        info = codecs.lookup(name)
    except LookupError:
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_CHARSETS:
        return None
    # Labels that mean windows-1252 in practice (as in the WHATWG encoding standard).
    if info.name in ("ascii", "iso8859-1", "latin-1"):
        return "cp1252"
    return info.name


def decode_text(data, charset=None):
    """Decode body or header bytes. Returns (text, defect or None); unknown charsets fall back."""
    codec = lookup_charset(charset) if charset else None
    defect = None
    if charset and codec is None:
        defect = f"unknown charset {charset[:40]!r}"
    if data.isascii():
        return data.decode("ascii"), defect
    if codec in (None, "cp1252"):
        # Undeclared or Latin-1 labelled 8-bit text is very often UTF-8; valid UTF-8 is rarely anything else.
        try:
            text = data.decode("utf-8")
            if charset and codec == "cp1252":
                defect = defect or f"text labelled {charset[:40]} is UTF-8"
            return text, defect
        except UnicodeDecodeError:
            codec = "cp1252"
    try:
        return data.decode(codec, "replace"), defect
    except Exception:  # codec implementations may raise oddities on hostile input
        return data.decode("latin-1"), defect or f"charset {charset[:40]!r} failed"


def clean(text):
    """Header text safe to store and show: no NUL, no CR/LF or other controls."""
    return _CONTROLS.sub(" ", text)


def decode_words(text):
    """Decode RFC 2047 encoded words; undecodable ones are left as written."""
    if "=?" not in text:
        return text
    text = _BETWEEN_WORDS.sub(r"\1\2", text)  # whitespace between adjacent words is not content
    return _ENCODED_WORD.sub(_decode_word, text)


def _decode_word(match):
    charset, encoding, payload = match.groups()
    charset = charset.split("*", 1)[0]  # RFC 2231 language suffix
    try:
        if encoding in "Bb":
            data = binascii.a2b_base64(payload.encode("ascii") + b"==")
        else:
            data = binascii.a2b_qp(payload.replace("_", " ").encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return match.group(0)
    return decode_text(data, charset)[0]


def header_str(value):
    """Raw header bytes to str: ASCII as is, 8-bit as UTF-8, else windows-1252."""
    if value.isascii():
        return value.decode("ascii")
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("cp1252", "replace")


# --- addresses ---------------------------------------------------------------------------------------

_ADDR_TOKEN = re.compile(
    r'"(?:[^"\\]|\\.)*"?'                  # quoted string (maybe unterminated)
    r"|=\?[^?\s]{1,60}\?[QqBb]\?[^?\s]*\?="  # encoded word: its specials are not syntax
    r"|[(),:;<>]"                          # specials we act on
    r"|\[[^\]\s,;<>]*\]?"                  # domain literal ([IPv6:2001:db8::1]: its colons are not syntax)
    r"|[^\s\"(),:;<>\[]+"                  # atoms, dots, @
    r"|\s+"
)


_PLAIN_MAILBOX = re.compile(  # the common cases, "addr" and "Plain Name <addr>", without the tokenizer
    r"^(?:([A-Za-z0-9.'_-]+(?: [A-Za-z0-9.'_-]+)*)? ?<([^\s<>()\[\]\\,;:\"@]+@[^\s<>()\[\]\\,;:\"@]+)>"
    r"|([^\s<>()\[\]\\,;:\"@]+@[^\s<>()\[\]\\,;:\"@]+))$")


def parse_addresses(text):
    """Split an address-list header into (name, address) pairs; names decoded. Never raises."""
    plain = _PLAIN_MAILBOX.match(text)
    if plain:
        return [(plain.group(1) or "", plain.group(2))] if plain.group(2) else [("", plain.group(3))]
    result, phrase, comments, angle = [], [], [], None
    pos, depth = 0, 0

    def flush():
        if angle is None and not phrase and not comments:
            return
        if angle is not None:
            display, spec = _unquote("".join(phrase)), angle
        else:
            display, spec = "".join(comments), "".join(t for t in phrase if not t.isspace())
        display = " ".join(clean(decode_words(display)).split())
        spec = clean(spec).strip()
        if display or spec:
            result.append((display, spec))

    while pos < len(text):
        match = _ADDR_TOKEN.match(text, pos)
        tok = match.group(0) if match else text[pos]
        pos += len(tok)
        if depth:  # inside a (comment), which may nest
            depth += {"(": 1, ")": -1}.get(tok, 0)
            if depth and tok not in "()":
                comments.append(tok)
        elif tok == "(":
            depth = 1
        elif tok in ",;":
            flush()
            phrase, comments, angle = [], [], None
        elif tok == ":" and angle is None:  # "group:" - what came before names the group
            phrase, comments = [], []
        elif tok == "<":
            end = text.find(">", pos)
            end = len(text) if end < 0 else end
            angle, pos = text[pos:end].strip(), end + 1
        elif tok not in ">)" and angle is None:
            phrase.append(tok)
    flush()
    return result


_QUOTED = re.compile(r'("(?:[^"\\]|\\.)*"?)', re.S)
_QUOTED_PAIR = re.compile(r"\\(.)", re.S)


def decode_phrase(text):
    """A display name as an application wrote it (for building, where parse_addresses is lenient): encoded words
    decoded, but a quoted string taken as it is (RFC 2047 section 5: no encoded word inside quotes); controls and
    runs of white space become one space."""
    out = []
    for part in _QUOTED.split(text):
        if part.startswith('"'):
            part = part[1:-1] if len(part) > 1 and part.endswith('"') else part[1:]
            out.append(_QUOTED_PAIR.sub(r"\1", part))
        else:
            out.append(decode_words(part))
    return " ".join(clean("".join(out)).split())


def _unquote(text):
    out = []
    for part in re.split(r'("(?:[^"\\]|\\.)*"?)', text):
        if part.startswith('"'):
            part = part[1:-1] if len(part) > 1 and part.endswith('"') else part[1:]
            part = re.sub(r"\\(.)", r"\1", part)
        out.append(part)
    return re.sub(r"\s+", " ", "".join(out))


_NEEDS_QUOTES = re.compile(r'[()<>\[\]:;@\\,."]|=\?')  # specials, and text a reader would decode as RFC 2047


def format_address(name, addr):
    """'Name <addr>' with the name quoted when it holds specials; just 'addr' without a name."""
    if not name:
        return addr
    if _NEEDS_QUOTES.search(name):
        name = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{name} <{addr}>"


# --- MIME parameters ---------------------------------------------------------------------------------

_PARAM = re.compile(r';\s*([^\s=;"]+)\s*(?:=\s*("(?:[^"\\]|\\.)*"?|[^;]*))?')
_SECTION = re.compile(r"^(.*?)\*(\d{1,3})(\*?)$")
MAX_PARAMS = 64


def parse_params(value):
    """'type/sub; a=b; c*0*=...' -> ('type/sub', {'a': 'b', 'c': '...'}); RFC 2231 joined and decoded."""
    head, sep, rest = value.partition(";")
    params, sections = {}, {}
    for count, match in enumerate(_PARAM.finditer(sep + rest)):
        if count >= MAX_PARAMS:
            break
        key, raw = match.group(1).lower(), (match.group(2) or "").strip()
        if raw.startswith('"'):
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1] if raw.endswith('"') and len(raw) > 1 else raw[1:])
        section = _SECTION.match(key)
        if section:
            sections.setdefault(section.group(1), []).append((int(section.group(2)), bool(section.group(3)), raw))
        elif key.endswith("*"):
            sections.setdefault(key[:-1], []).append((0, True, raw))
        else:
            params.setdefault(key, decode_words(raw) if "=?" in raw else raw)
    for key, parts in sections.items():
        params[key] = _join_rfc2231(sorted(parts, key=lambda p: p[0]))
    return head.strip().lower(), params


def _join_rfc2231(parts):
    charset = None
    data = bytearray()
    for index, extended, raw in parts:
        if extended:
            if index == 0 and raw.count("'") >= 2:
                charset, _lang, raw = raw.split("'", 2)
            data += urllib.parse.unquote_to_bytes(raw)
        else:
            data += raw.encode("utf-8", "surrogateescape")
    return decode_text(bytes(data), charset or "utf-8")[0]
