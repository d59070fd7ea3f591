"""Addresses the application sends to: strict RFC 5321 / RFC 5322 parsing and formatting (raises AddressError).

Parsed mail goes through headers.parse_addresses, which is lenient and never raises; this module is for building.

- A local part is kept as its content (quotes and backslashes removed) and written quoted only when it is not a
  dot-atom (RFC 5321 4.1.2), so ``"bob"@example.test`` is sent as ``bob@example.test`` and ``"john doe"@x`` as
  itself. Quoted content is printable ASCII and space (qtextSMTP, quoted-pairSMTP); never a control character.
- A domain is LDH labels (RFC 5321 4.1.2); an international one becomes its A-labels (IDNA). An address literal
  is ``[IPv4]`` or ``[IPv6:...]`` (RFC 5321 4.1.3); a bare IPv6 in brackets gets its ``IPv6:`` tag.
- A local part outside ASCII needs SMTPUTF8 (RFC 6531), which the builder does not write: refused.
- Lengths as RFC 5321 4.5.3.1: local part 64 octets, domain 253, the whole address 254.
"""

import dataclasses
import ipaddress
import re

from .headers import decode_phrase

MAX_LOCAL = 64
MAX_DOMAIN = 253
MAX_ADDRESS = 254

# Everything str.splitlines() splits on, the other C0/C1 controls, DEL and NUL. TAB is folding white space.
CONTROLS = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")
_ATEXT = re.escape("!#$%&'*+-/=?^_`{|}~")
_DOT_ATOM = re.compile(rf"[A-Za-z0-9{_ATEXT}]+(?:\.[A-Za-z0-9{_ATEXT}]+)*\Z")
_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)\Z")
_PLAIN = re.compile(rf"([A-Za-z0-9{_ATEXT}]+(?:\.[A-Za-z0-9{_ATEXT}]+)*)@([A-Za-z0-9.-]+)\Z")  # the usual case


def gettext_noop(text: str) -> str:
    """Marks a reason for translation (Django's makemessages finds the name). This package imports nothing of
    Django: the pages translate ``AddressError.text`` when they show it (spooler.services.header_input)."""
    return text


class AddressError(ValueError):
    """An address that cannot be sent; the message is meant for people: ``text`` (English, marked for
    translation) with its ``params``, completing "it …"."""

    def __init__(self, text: str, **params):
        super().__init__(text % params if params else text)
        self.text, self.params = text, params


@dataclasses.dataclass(frozen=True)
class Mailbox:
    local: str        # the local part's content: unquoted, unescaped
    domain: str       # ASCII: LDH labels (A-labels for an IDN) or an address literal in brackets
    name: str = ""    # the display name, on one line

    @property
    def addr_spec(self) -> str:
        return f"{quote_local(self.local)}@{self.domain}"


def quote_local(local: str) -> str:
    if _DOT_ATOM.match(local):
        return local
    return '"' + local.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse_addr_spec(text: str) -> Mailbox:
    """``local@domain`` (the local part maybe quoted) as a Mailbox; raises AddressError saying what is wrong."""
    plain = _PLAIN.match(text)
    if plain and len(plain.group(1)) <= MAX_LOCAL:
        return _checked_length(Mailbox(plain.group(1), parse_domain(plain.group(2))))
    if CONTROLS.search(text):
        raise AddressError(gettext_noop("contains a line break or a control character"))
    if text.startswith('"'):
        local, rest = _quoted(text)
        if not rest.startswith("@"):
            raise AddressError(gettext_noop("after a quoted local part comes @ and the domain"))
        domain_text = rest[1:]
    else:
        local, at, domain_text = text.rpartition("@")
        if not at:
            raise AddressError(gettext_noop("needs an @ and a domain"))
        if not local:
            raise AddressError(gettext_noop("has nothing before the @"))
        if not local.isascii():
            raise AddressError(gettext_noop(
                "has characters outside ASCII before the @ (that needs SMTPUTF8, not supported here)"))
        if not _DOT_ATOM.match(local):
            raise AddressError(gettext_noop("has a local part (before the @) that is not valid; "
                               'spaces, commas and the like need quotes, e.g. "john doe"@example.com'))
    if not local:
        raise AddressError(gettext_noop("has nothing before the @"))
    if len(quote_local(local)) > MAX_LOCAL:
        raise AddressError(gettext_noop("has a local part (before the @) longer than %(limit)d characters"),
                           limit=MAX_LOCAL)
    return _checked_length(Mailbox(local, parse_domain(domain_text)))


def _checked_length(mailbox: Mailbox) -> Mailbox:
    if len(mailbox.addr_spec) > MAX_ADDRESS:
        raise AddressError(gettext_noop("is longer than %(limit)d characters"), limit=MAX_ADDRESS)
    return mailbox


def _quoted(text: str) -> tuple[str, str]:
    """The content of the quoted string at the start of ``text``, and what follows it."""
    out, pos = [], 1
    while pos < len(text):
        ch = text[pos]
        if ch == '"':
            return "".join(out), text[pos + 1:]
        if ch == "\\":
            pos += 1
            if pos == len(text):
                break
            ch = text[pos]
        if not " " <= ch <= "~":
            if ch.isascii():
                raise AddressError(gettext_noop("contains a control character"))
            raise AddressError(gettext_noop(
                "has characters outside ASCII before the @ (that needs SMTPUTF8, not supported here)"))
        out.append(ch)
        pos += 1
    raise AddressError(gettext_noop("has a quote that is not closed"))


def parse_domain(text: str) -> str:
    """The domain as sent: LDH labels (an IDN as A-labels) or a checked address literal."""
    if text.startswith("["):
        return _literal(text)
    if not text:
        raise AddressError(gettext_noop("has no domain after the @"))
    if not text.isascii():
        try:
            text = text.encode("idna").decode("ascii")
        except UnicodeError:
            raise AddressError(gettext_noop("has a domain that is not a valid international domain name")) from None
    labels = text.split(".")
    if len(text) > MAX_DOMAIN or not all(_LABEL.match(label) for label in labels):
        raise AddressError(gettext_noop("has a domain that is not valid (letters, digits and hyphens between dots)"))
    if labels[-1].isdigit():
        raise AddressError(gettext_noop(
            "has a domain that looks like an IP address; write it in brackets, e.g. bob@[192.0.2.1]"))
    return text


def _literal(text: str) -> str:
    if not text.endswith("]") or len(text) > 2 + 45 + 5:
        raise AddressError(gettext_noop("has an address literal that is not closed by ]"))
    inner = text[1:-1]
    tag, colon, rest = inner.partition(":")
    try:
        if tag.lower() == "ipv6" and colon:
            return f"[IPv6:{_ipv6(rest)}]"
        if colon:  # a bare IPv6 (or a tag we do not know)
            return f"[IPv6:{_ipv6(inner)}]"
        return f"[{ipaddress.IPv4Address(inner)}]"
    except ValueError:
        raise AddressError(gettext_noop("has an address literal that is neither [IPv4] nor [IPv6:…]")) from None


def _ipv6(text: str) -> str:
    if "%" in text:  # a scope (fe80::1%eth0) means nothing to another host
        raise ValueError(text)
    return ipaddress.IPv6Address(text).compressed


def parse_mailbox(text: str) -> Mailbox:
    """One mailbox as the application writes it: ``addr``, ``<addr>`` or ``Name <addr>`` (the name may be quoted
    or RFC 2047 encoded). Raises AddressError, also for two mailboxes in one value."""
    text = text.strip(" \t")
    if CONTROLS.search(text):
        raise AddressError(gettext_noop("contains a line break or a control character"))
    start = _angle_start(text)
    if start is None:
        return parse_addr_spec(text)
    if not text.endswith(">"):
        raise AddressError(gettext_noop("has text after the address in <…>"))
    spec = parse_addr_spec(text[start + 1:-1].strip(" \t"))
    return dataclasses.replace(spec, name=decode_phrase(text[:start]))


def _angle_start(text: str) -> int | None:
    """The index of the first '<' outside a quoted string, or None."""
    quoted = escaped = False
    for index, ch in enumerate(text):
        if escaped:
            escaped = False
        elif ch == "\\" and quoted:
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == "<" and not quoted:
            return index
    return None


def split_address_list(text: str, separators: str = ",;") -> list[str]:
    """Split typed text on commas (and semicolons) outside quotes and brackets; items stripped, empty ones dropped."""
    items, current = [], []
    quoted = escaped = False
    bracket = 0
    for ch in text:
        if escaped:
            escaped = False
        elif quoted and ch == "\\":
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif not quoted and ch == "[":
            bracket += 1
        elif not quoted and ch == "]" and bracket:
            bracket -= 1
        elif not quoted and not bracket and ch in separators:
            items.append("".join(current))
            current = []
            continue
        current.append(ch)
    items.append("".join(current))
    return [item.strip() for item in items if item.strip()]
