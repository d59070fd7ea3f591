"""What a spooled message says, for the sender's Sent and Outbox pages: its text and its attachments' names,
read from the stored bytes with the same parser and caps as received mail."""
import dataclasses

from spooler.models import OutboxMessage
from spooler.services.inbound.store import message_texts
from spooler.services.outbound.enqueue import outbox_raw
from spooler.sessions import Email


@dataclasses.dataclass
class Contents:
    sender: str
    to: list
    cc: list
    date: object
    text: str
    attachments: list  # (file name, content type, size)


def outbox_contents(*, row: OutboxMessage) -> Contents:
    parsed = Email.parse(outbox_raw(row))
    text, _markup, _defects = message_texts(parsed)
    return Contents(sender=parsed.sender or row.envelope_from, to=list(parsed.to or []), cc=list(parsed.cc or []),
                    date=parsed.date, text=text,
                    attachments=[(a.safe_filename, a.content_type, len(a.data or b"")) for a in parsed.attachments])
