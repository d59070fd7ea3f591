"""What the message page shows of a message's body: its HTML in a sandboxed frame (or, failing that, its text),
the remote-content state, the attachments that are not inline parts of the HTML, and its raw headers on demand."""
import dataclasses
from email.utils import parseaddr

from mailsite.mailboxes.models import RemoteContentSender

from . import html as reading_html
from . import parts as reading_parts
from .original import raw_headers
from .text import text_blocks

FRAME_SANDBOX = "allow-popups allow-popups-to-escape-sandbox"  # links open in a new tab; nothing runs


@dataclasses.dataclass
class Reading:
    attachments: list
    text: list  # text_blocks of the text part (shown when there is no frame)
    srcdoc: str = ""  # the frame document, "" when the HTML is not shown
    height: int = 0
    blocked_remote: int = 0
    remote: bool = False  # remote content is shown
    remote_always: bool = False  # ... because the sender is on the user's list
    sender_address: str = ""
    html_error: str = ""  # why the HTML part is shown as text
    headers: str | None = None  # the raw header section, when asked for
    headers_cut: bool = False
    sandbox: str = FRAME_SANDBOX

    @property
    def frame(self) -> bool:
        return bool(self.srcdoc)


def sender_address(message) -> str:
    return parseaddr(message.sender or "")[1].strip().lower()[:320]


def remote_allowed(*, user, message) -> bool:
    address = sender_address(message)
    return bool(address) and RemoteContentSender.objects.filter(user=user, address=address).exists()


def message_reading(*, user, message, origin: str, remote_asked: bool, with_headers: bool) -> Reading:
    """``origin``: the site's scheme and host as the browser reaches it (the frame's CSP names the part URLs
    with it: a sandboxed frame has no origin of its own to call 'self')."""
    attachments = list(message.attachments.all())
    address = sender_address(message)
    always = bool(message.html) and remote_allowed(user=user, message=message)
    reading = Reading(attachments=attachments, text=[], sender_address=address, remote_always=always,
                      remote=bool(message.html) and (remote_asked or always))
    if with_headers:
        reading.headers, reading.headers_cut = raw_headers(message.raw)
    if message.html:
        try:
            _frame(reading, user=user, message=message, origin=origin, attachments=attachments)
        except reading_html.HtmlTooComplex as exc:
            reading.html_error = exc.reason
            reading.remote = False
    if not reading.frame:
        reading.text = text_blocks(message.text)
    return reading


def _frame(reading: Reading, *, user, message, origin: str, attachments: list) -> None:
    inline = reading_parts.inline_parts(message, attachments)

    def url(part):
        return origin + reading_parts.part_url(user_id=user.id, message_id=message.id, attachment_id=part.id)

    sanitized = reading_html.mail_html_sanitize(message.html, parts=inline, part_url=url, remote=reading.remote)
    csp = reading_html.frame_csp(parts_source=origin + reading_parts.part_url_prefix(message.id),
                                 remote=reading.remote)
    reading.srcdoc = reading_html.frame_document(sanitized.body, csp=csp)
    reading.height = reading_html.frame_height(sanitized.body)
    reading.blocked_remote = sanitized.blocked_remote
    # The inline parts the HTML refers to are part of the message's look, not files to download.
    referenced = reading_parts.cid_references(message.html)
    reading.attachments = [a for a in attachments
                           if not (a.id in sanitized.used_parts or (a.content_id and a.content_type in
                                   reading_parts.IMAGE_TYPES and reading_parts.cid_key(a.content_id) in referenced))]
