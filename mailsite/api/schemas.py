"""The API's JSON, as pydantic models: they validate requests (unknown fields refused) and generate the OpenAPI
document. Values that go into a header line are checked here as the spool will build them (spooler.services)."""
import re
from datetime import datetime, timedelta, timezone
from typing import Annotated, Literal

from django.conf import settings
from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from spooler.models import OutboxStatus
from spooler.services.header_input import AddressError, address_parse, header_text_problem

# Extra header fields a message may carry (case-blind). Reply-To, In-Reply-To and References go where the
# builder writes them; the others are written as given, on one line.
HEADER_ALLOWLIST = ("Reply-To", "In-Reply-To", "References", "List-Id", "List-Unsubscribe",
                    "List-Unsubscribe-Post", "X-Entity-Ref-ID", "Auto-Submitted")
_HEADER_NAMES = {name.lower(): name for name in HEADER_ALLOWLIST}
_MSG_ID = re.compile(r"<[^<>\s@]+@[^<>\s@]+>")
_CONTENT_TYPE = re.compile(r"^[A-Za-z0-9!#$&^_.+-]{1,127}/[A-Za-z0-9!#$&^_.+-]{1,127}$")
_SURROGATE = re.compile("[\ud800-\udfff]")
_RFC3339 = re.compile(r"^\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(\.\d{1,9})?([Zz]|[+-]\d\d:\d\d)$")


def _text(value: str) -> str:
    """Any text: only lone surrogates (which JSON allows and UTF-8 does not) are refused."""
    if _SURROGATE.search(value):
        raise ValueError(_("This text holds an invalid character (a lone surrogate)."))
    return value


def _line(value: str) -> str:
    """Text for one header line: no line break, no control character."""
    problem = header_text_problem(_text(value))
    if problem:
        raise ValueError(problem)
    return value


def _address(value: str) -> str:
    try:
        return address_parse(_line(value).strip())
    except AddressError as exc:
        raise ValueError(_("%(value)s is not a valid address: it %(reason)s") % {"value": value, "reason": exc})


def _rfc3339(value):
    """A date-time as RFC 3339 writes it, with its offset (pydantic alone would also take a number of seconds, or
    a time without a zone)."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _RFC3339.match(value):
        raise ValueError(_("Write a date and time as RFC 3339, e.g. 2030-01-31T09:00:00Z."))
    return value


def _in_range(value: datetime) -> datetime:
    """Years 1970 to 2999 in UTC (the database's dates and the spool's arithmetic stay far from their limits)."""
    try:
        utc = value.astimezone(timezone.utc)
    except OverflowError:
        utc = None
    if utc is None or not 1970 <= utc.year <= 2999:
        raise ValueError(_("Give a date between 1970 and 2999."))
    return utc


Text = Annotated[str, AfterValidator(_text)]
DateTime = Annotated[datetime, BeforeValidator(_rfc3339), AfterValidator(_in_range)]
Line = Annotated[str, AfterValidator(_line)]
Address = Annotated[str, Field(max_length=320), AfterValidator(_address)]


class AttachmentIn(Schema):
    model_config = ConfigDict(extra="forbid")

    filename: Line = Field(min_length=1, max_length=255)
    content_type: str = Field("application/octet-stream", pattern=_CONTENT_TYPE.pattern)
    content_base64: str = Field(description="The file's bytes in base64 (RFC 4648, with padding).")


EXAMPLE = {"from": "you@example.test", "to": ["someone@example.test"], "subject": "Your invoice",
           "text": "Hello, your invoice is attached.", "headers": {"X-Entity-Ref-ID": "invoice-7"}}


class MessageIn(Schema):
    """A message to send. `from` is the address of one of your mail accounts; the message goes out through it."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, json_schema_extra={"examples": [EXAMPLE]})

    from_: Address = Field(alias="from")
    to: list[Address] = Field(default_factory=list)
    cc: list[Address] = Field(default_factory=list)
    bcc: list[Address] = Field(default_factory=list, description="In the envelope only, never in a header.")
    subject: Line = Field("", max_length=998)
    text: Text = ""
    html: Text | None = Field(None, description="An HTML alternative to `text` (or the only body).")
    attachments: list[AttachmentIn] = Field(default_factory=list)
    send_at: DateTime | None = Field(None, description="RFC 3339 date-time: no attempt before it.")
    headers: dict[str, Line] = Field(
        default_factory=dict, description="Extra header fields, only these (case-blind): " + ", ".join(HEADER_ALLOWLIST))

    @field_validator("attachments")
    @classmethod
    def _attachment_count(cls, value):
        if len(value) > settings.API_MAX_ATTACHMENTS:
            raise ValueError(_("At most %(n)d attachments.") % {"n": settings.API_MAX_ATTACHMENTS})
        return value

    @field_validator("headers")
    @classmethod
    def _headers(cls, value: dict[str, str]) -> dict[str, str]:
        named = {}
        for name, text in value.items():
            known = _HEADER_NAMES.get(name.lower())
            if known is None:
                raise ValueError(_("%(name)s cannot be set; these can: %(names)s")
                                 % {"name": name[:100], "names": ", ".join(HEADER_ALLOWLIST)})
            if known in named:
                raise ValueError(_("%(name)s is given twice.") % {"name": known})
            if len(text) > 998:
                raise ValueError(_("%(name)s is longer than 998 characters.") % {"name": known})
            named[known] = text.strip()
        for name in ("In-Reply-To", "References"):
            ids = named.get(name, "").split()
            if name in named and (not ids or not all(_MSG_ID.fullmatch(i) for i in ids) or
                                  (name == "In-Reply-To" and len(ids) > 1)):
                raise ValueError(_("%(name)s must hold message ids like <id@example.com>.") % {"name": name})
        if "Reply-To" in named:
            named["Reply-To"] = _address(named["Reply-To"])
        return named

    @field_validator("send_at")
    @classmethod
    def _send_at(cls, value):
        days = settings.API_MAX_SCHEDULE_DAYS
        if value is not None and value > datetime.now(timezone.utc) + timedelta(days=days):
            raise ValueError(_("A message may be scheduled %(days)d days ahead at most.") % {"days": days})
        return value

    @model_validator(mode="after")
    def _recipients(self):
        count = len(self.to) + len(self.cc) + len(self.bcc)
        if count == 0:
            raise ValueError(_("Give at least one recipient (to, cc or bcc)."))
        if count > settings.API_MAX_RECIPIENTS:
            raise ValueError(_("At most %(n)d recipients (to, cc and bcc together).")
                             % {"n": settings.API_MAX_RECIPIENTS})
        return self


Status = Literal[tuple(OutboxStatus.values)]
RecipientState = Literal["queued", "sending", "sent", "deferred", "failed", "expired", "cancelled"]


class RecipientOut(Schema):
    address: str
    status: RecipientState = Field(description="sent, deferred, failed, expired: the relay's last answer "
                                               "(with its SMTP code and text); otherwise the message's state.")
    code: int | None = None
    text: str = ""


class MessageOut(Schema):
    id: int
    status: Status
    message_id: str = Field(description="The Message-ID header.")
    from_: str = Field(alias="from")
    subject: str
    recipients: list[RecipientOut]
    attempts: int
    last_code: int | None
    last_text: str
    created_at: datetime
    send_at: datetime | None
    next_attempt_at: datetime | None
    sent_at: datetime | None
    finished_at: datetime | None
    expires_at: datetime | None


class MessagePage(Schema):
    items: list[MessageOut]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next (older) page; null on the last.")


class ProblemError(Schema):
    location: str
    field: str
    detail: str


class Problem(Schema):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[ProblemError] | None = None
