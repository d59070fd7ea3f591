"""What people type into a message's header fields, checked the way the spool will build and send it.

The pages call these before they queue anything, so that a bad value is an error beside its field and never an
exception further down. The builder (spooler.sessions.email) and the SMTP session refuse the same characters and
addresses with the same rules (spooler.sessions.addresses), as the last line of defence against header injection.
"""
import unicodedata

from django.utils.translation import gettext, gettext_lazy, gettext_noop

from spooler.sessions.addresses import CONTROLS, AddressError, parse_addr_spec, split_address_list

__all__ = ["AddressError", "address_error_text", "address_list_split", "address_parse", "header_text_problem"]

_NAMES = {"\n": gettext_lazy("a line break (LF)"), "\r": gettext_lazy("a line break (CR)"),
          "\x00": gettext_lazy("a NUL character")}


def header_text_problem(value: str) -> str | None:
    """Why ``value`` cannot be written on one header line (the first line break or control character it holds,
    named), or None. TAB is not a problem: it is folding white space."""
    match = CONTROLS.search(value or "")
    if match is None:
        return None
    ch = match.group(0)
    name = _NAMES.get(ch) or f"U+{ord(ch):04X} {unicodedata.name(ch, 'control character')}"
    return gettext("Line breaks and control characters are not allowed here (found %(name)s).") % {"name": name}


def address_list_split(text: str) -> list[str]:
    """The items of a typed address list: split on commas and semicolons outside quotes and brackets."""
    return split_address_list(text)


def address_parse(text: str) -> str:
    """One address a person typed, as it will be sent and written in To/Cc: its local part quoted only when
    needed ("bob"@example.com is bob@example.com), an international domain as A-labels, an IPv6 literal tagged
    ([IPv6:…]). Raises AddressError, whose text completes "it …"; also for a domain without a dot (a typo, most
    likely) other than localhost."""
    if not text.startswith('"') and ("<" in text or ">" in text):
        raise AddressError(gettext_noop("has a name or <…> around it; write the address alone, e.g. bob@example.com"))
    mailbox = parse_addr_spec(text)
    domain = mailbox.domain
    if not domain.startswith("[") and "." not in domain and domain.lower() != "localhost":
        raise AddressError(gettext_noop("has no top-level domain after the @ (e.g. example.com)"))
    return mailbox.addr_spec


def address_error_text(exc: AddressError) -> str:
    """Why an address was refused, in the reader's language (it completes "it …")."""
    text = getattr(exc, "text", None)
    if not text:
        return str(exc)
    return gettext(text) % exc.params if exc.params else gettext(text)
