"""SMTP replies as session errors: shared by SMTPSession and PipeliningSession (which reads them in bulk)."""

from .base import reply_text
from .errors import PermanentError, RecipientsDeferred, RecipientsRefused, TransientError, is_temporary


def reply_error(code, text, server, doing):
    """The error for a refusing reply: TransientError for a 4xx, PermanentError otherwise."""
    cls = TransientError if is_temporary(code) else PermanentError
    return cls(f"{doing}: {text}", code=code, server=server)


def sort_recipients(recipients, replies, server):
    """(accepted, refused) from each recipient's RCPT reply; a 421 ends the session."""
    accepted, refused = [], {}
    for rcpt, (code, text) in zip(recipients, replies, strict=True):
        if code in (250, 251):
            accepted.append(rcpt)
        elif code == 421:
            raise reply_error(code, reply_text(text), server, "server closing")
        else:
            refused[rcpt] = (code, reply_text(text))
    return accepted, refused


def every_recipient_refused(refused, server):
    """The error for a message no recipient was accepted for: transient only if every refusal was 4xx."""
    code, _text = next(iter(refused.values()))
    summary = "; ".join(f"{r}: {c} {t}" for r, (c, t) in refused.items())
    cls = RecipientsDeferred if all(is_temporary(c) for c, _t in refused.values()) else RecipientsRefused
    return cls(f"every recipient refused ({summary})", refused=refused, code=code, server=server)
