"""A message's inline parts (``cid:`` images of its HTML): which ones the HTML refers to, and the signed URL each
is served under. The frame that shows the HTML is sandboxed (an opaque origin sends no session cookie), so the
URL itself carries the scope: signed for one user, one message and one content id, for a limited time."""
import re
from urllib.parse import unquote

from django.core import signing
from django.urls import reverse

SALT = "mailsite.webmail.reading.cid"
MAX_AGE = 24 * 3600  # seconds a signed part URL works; the page signs again each time it is shown
# Served inline only as these, and only when the bytes start like one (else not at all).
IMAGE_TYPES = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),
}
_CID_REFERENCE = re.compile(r"cid:([^\s\"'<>()\\]+)", re.IGNORECASE)


def cid_key(value: str) -> str:
    """A content id as the HTML and the part header both may write it: without <>, unquoted, lower-case."""
    return unquote(value).strip().strip("<>").lower()


def cid_references(markup: str) -> set[str]:
    """The content ids the HTML refers to (``cid:`` anywhere in it), as cid_key has them."""
    return {cid_key(match) for match in _CID_REFERENCE.findall(markup or "")}


def inline_parts(message, attachments) -> dict:
    """cid_key -> attachment, for this message's image attachments that have a content id."""
    parts = {}
    for attachment in attachments:
        if attachment.content_id and attachment.content_type in IMAGE_TYPES:
            parts.setdefault(cid_key(attachment.content_id), attachment)
    return parts


def part_token(*, user_id: int, message_id: int, attachment_id: int) -> str:
    return signing.dumps([user_id, message_id, attachment_id], salt=SALT, compress=False)


def part_unsign(token: str) -> tuple[int, int, int] | None:
    """(user id, message id, attachment id) of a token this site signed less than MAX_AGE ago, else None."""
    try:
        value = signing.loads(token, salt=SALT, max_age=MAX_AGE)
    except signing.BadSignature:
        return None
    if not (isinstance(value, list) and len(value) == 3 and all(isinstance(v, int) for v in value)):
        return None
    return tuple(value)


def part_url(*, user_id: int, message_id: int, attachment_id: int) -> str:
    """The path of one inline part, scoped by its signature to the user and the message."""
    token = part_token(user_id=user_id, message_id=message_id, attachment_id=attachment_id)
    return reverse("webmail:message_part", args=[message_id, token])


def part_url_prefix(message_id: int) -> str:
    """The path every part URL of this message starts with (for the frame's CSP)."""
    return reverse("webmail:message_part", args=[message_id, "x"])[:-2]
