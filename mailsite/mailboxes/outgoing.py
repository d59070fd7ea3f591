"""What a page hands the spool to send: plain fields, no protocol type (the spooler builds the MIME message)."""
import dataclasses


@dataclasses.dataclass(frozen=True)
class OutgoingMail:
    """A message written in the webmail. `sender` is the From field (MailAccount.from_header)."""

    sender: str
    to: list[str]
    cc: list[str] = dataclasses.field(default_factory=list)
    subject: str = ""
    text: str = ""
