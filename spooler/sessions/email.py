"""The Email structure: built by the application and turned into RFC 5322 bytes, or parsed from them."""

import dataclasses
import datetime
import email.policy
import email.utils
import re
import secrets
from email.message import EmailMessage

from .addresses import CONTROLS, parse_mailbox
from .folding import address_field, unstructured
from .headers import format_address, parse_addresses
from .mimeparse import parse

_POLICY = email.policy.SMTP.clone(max_line_length=78, cte_type="7bit")  # CRLF; 7-bit, so RFC 2047/2231, QP, base64
_HEADER_NAME = re.compile(r"^[!-9;-~]+$")
_CONTENT_TYPE = re.compile(r"^[a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+-]+$")
_MSG_ID = re.compile(r"^<[^<>\s]+>$")
# Fields the builder writes itself; extra headers may not replace them.
_RESERVED = {
    "from", "to", "cc", "bcc", "reply-to", "subject", "date", "message-id", "in-reply-to",
    "references", "mime-version", "content-type", "content-transfer-encoding", "content-disposition",
    "x-priority", "importance",
}
_PRIORITY = {"high": ("1 (Highest)", "high"), "normal": ("3 (Normal)", "normal"), "low": ("5 (Lowest)", "low")}

@dataclasses.dataclass(eq=False)
class Email:
    """One message. Addresses are strings 'Name <addr>' or 'addr' (tuples (name, addr) accepted).

    Built mail: ``headers`` holds extra header fields to write. Parsed mail: ``headers`` maps every
    lower-case field name to its first decoded value, and ``header_list`` keeps all (name, value) in order.
    """

    sender: str = ""
    to: list = dataclasses.field(default_factory=list)
    cc: list = dataclasses.field(default_factory=list)
    bcc: list = dataclasses.field(default_factory=list)
    reply_to: list = dataclasses.field(default_factory=list)
    subject: str = ""
    text: str = ""
    html: str | None = None
    attachments: list = dataclasses.field(default_factory=list)
    headers: dict = dataclasses.field(default_factory=dict)
    message_id: str | None = None
    date: datetime.datetime | None = None
    in_reply_to: str | None = None
    references: list = dataclasses.field(default_factory=list)
    priority: str | None = None  # "high" | "normal" | "low"
    # Set by Email.parse and by the reading sessions.
    raw: bytes | None = dataclasses.field(default=None, repr=False)
    defects: list = dataclasses.field(default_factory=list, repr=False)
    header_list: list = dataclasses.field(default_factory=list, repr=False)  # parsed: [(name, value)] in order
    uid: str | None = None
    size: int | None = None

    def __post_init__(self):
        for name in ("to", "cc", "bcc", "reply_to", "references"):
            value = getattr(self, name)
            if isinstance(value, (str, tuple)):
                value = [value]
            setattr(self, name, [format_address(*v) if isinstance(v, tuple) else v for v in value or []])
        if isinstance(self.sender, tuple):
            self.sender = format_address(*self.sender)
        self._boundary_seed = None

    # --- reading helpers ---------------------------------------------------------------------------

    @property
    def sender_address(self):
        """The address part of ``sender`` (lenient: parsed mail may hold anything there)."""
        pairs = parse_addresses(self.sender or "")
        return pairs[0][1] if pairs else ""

    @property
    def sender_name(self):
        pairs = parse_addresses(self.sender or "")
        return pairs[0][0] if pairs else ""

    def envelope_sender(self):
        """The sender's address as SMTP's MAIL FROM carries it (see addresses: quoted only when needed, IDNA)."""
        return _mailbox(self.sender).addr_spec

    def envelope_recipients(self):
        """Addresses of to + cc + bcc as RCPT TO carries them, in order, without duplicates (domain case-blind)."""
        seen, result = set(), []
        for mailbox in _addresses(self.to + self.cc + self.bcc):
            domain = mailbox.domain if mailbox.domain.startswith("[") else mailbox.domain.lower()  # (a literal: as is)
            mailbox = dataclasses.replace(mailbox, name="", domain=domain)
            if mailbox not in seen:
                seen.add(mailbox)
                result.append(mailbox.addr_spec)
        return result

    @classmethod
    def parse(cls, raw, **bounds):
        """Parse bytes into an Email. Never raises; see mimeparse.parse for the bounds."""
        return parse(cls, raw, **bounds)

    # --- building ----------------------------------------------------------------------------------

    def to_bytes(self):
        """RFC 5322 bytes with CRLF. Message-ID and Date are fixed on first call and then reused."""
        if self.message_id is None:
            self.message_id = f"<{secrets.token_hex(16)}@{_mailbox(self.sender).domain}>"
        if self.date is None:
            self.date = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        if self._boundary_seed is None:
            self._boundary_seed = secrets.token_hex(12)
        msg = EmailMessage(policy=_POLICY)
        self._set_headers(msg)
        self._set_body(msg)
        for index, part in enumerate(p for p in msg.walk() if p.is_multipart()):
            part.set_boundary(f"=_{self._boundary_seed}_{index}")
        for part in msg.walk():
            if part is not msg:
                del part["MIME-Version"]  # EmailMessage repeats it in parts; it belongs at the top only
        return msg.as_bytes()

    def _set_headers(self, msg):
        if not self.sender:
            raise ValueError("an Email needs a sender")
        msg["From"] = address_field("From", _addresses([self.sender]))
        for field, values in (("To", self.to), ("Cc", self.cc), ("Reply-To", self.reply_to)):
            if values:
                msg[field] = address_field(field, _addresses(values))
        if not self.envelope_recipients():  # (bcc validated there too, never written)
            raise ValueError("an Email needs at least one recipient")
        msg["Subject"] = unstructured("Subject", _checked("subject", self.subject))
        msg["Date"] = email.utils.format_datetime(_aware(self.date))
        msg["Message-ID"] = _msg_id(self.message_id)
        if self.in_reply_to:
            msg["In-Reply-To"] = _msg_id(self.in_reply_to)
        if self.references:
            msg["References"] = " ".join(_msg_id(ref) for ref in self.references)
        if self.priority:
            if self.priority not in _PRIORITY:
                raise ValueError(f"priority must be one of {sorted(_PRIORITY)}")
            msg["X-Priority"], msg["Importance"] = _PRIORITY[self.priority]
        for name, value in self.headers.items():
            if not _HEADER_NAME.match(name) or name.lower() in _RESERVED:
                raise ValueError(f"header {name!r} cannot be set as an extra header")
            msg[name] = _checked(name, str(value))

    def _set_body(self, msg):
        inline = [a for a in self.attachments if a.content_id and self.html]
        files = [a for a in self.attachments if a not in inline]
        if self.html is not None and not self.text:
            msg.set_content(self.html, subtype="html")
            html_part = msg
        else:
            msg.set_content(self.text or "")
            if self.html is not None:
                msg.add_alternative(self.html, subtype="html")
            html_part = msg.get_payload()[-1] if self.html is not None else None
        for att in inline:
            html_part.add_related(att.data, *_content_type(att), cid=f"<{_checked('content id', att.content_id)}>",
                                  filename=_filename(att), disposition="inline")
        for att in files:
            maintype, subtype = _content_type(att)
            cte = "7bit" if maintype == "message" and att.data.isascii() else "base64"
            msg.add_attachment(att.data, maintype, subtype, cte=cte, filename=_filename(att))


def _mailbox(value):
    """The one mailbox a value holds (addresses.parse_mailbox); a ValueError naming the value otherwise."""
    if not value:
        raise ValueError("an Email needs a sender")
    try:
        return parse_mailbox(value)
    except ValueError as exc:  # AddressError
        raise ValueError(f"not one valid address ({exc}): {value!r}") from None


def _addresses(values):
    """The Mailbox of each value, each value holding exactly one mailbox."""
    return [_mailbox(value) for value in values]


def _checked(what, value):
    if CONTROLS.search(value or ""):
        raise ValueError(f"{what} contains a line break or a control character: {value!r}")
    return value


def _msg_id(value):
    value = _checked("message id", value.strip())
    if not value.startswith("<"):
        value = f"<{value}>"
    if not _MSG_ID.match(value):
        raise ValueError(f"invalid message id {value!r}")
    return value


def _content_type(att):
    ctype = (att.content_type or "application/octet-stream").lower()
    if not _CONTENT_TYPE.match(ctype):
        raise ValueError(f"invalid content type {att.content_type!r}")
    return ctype.split("/", 1)


def _filename(att):
    return _checked("filename", att.filename) if att.filename else None


def _aware(date):
    return date if date.tzinfo else date.replace(tzinfo=datetime.timezone.utc)

