"""What a page hands the spool to send: plain fields, no protocol type (the spooler builds the MIME message)."""
import dataclasses


@dataclasses.dataclass(frozen=True)
class OutgoingMail:
    """A message written in the webmail. `sender` is the From field (MailAccount.from_header).

    `bcc` goes into the envelope only, never into a header. `attachments` are (filename, content type, bytes).
    `in_reply_to` and `references` are message ids ("<…@…>") of the message answered and its thread.
    `html` is an HTML alternative to `text`; `reply_to` addresses go in Reply-To; `headers` are extra header fields
    (name → one-line value) that the builder does not write itself (it refuses the ones it does).
    """

    sender: str
    to: list[str]
    cc: list[str] = dataclasses.field(default_factory=list)
    subject: str = ""
    text: str = ""
    bcc: list[str] = dataclasses.field(default_factory=list)
    attachments: list[tuple[str, str, bytes]] = dataclasses.field(default_factory=list)
    in_reply_to: str = ""
    references: list[str] = dataclasses.field(default_factory=list)
    html: str | None = None
    reply_to: list[str] = dataclasses.field(default_factory=list)
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
