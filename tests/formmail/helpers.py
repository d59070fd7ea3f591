"""What the contact form tests post, and the spooled message read back from its row's bytes."""
import email
import email.policy

from spooler.models import OutboxMessage
from spooler.services.outbound.enqueue import outbox_raw

FORM = {"name": "Vera Visitor", "email": "vera@visitor.example", "subject": "A question",
        "message": "Hello,\nhow do I sign up?\n", "website": ""}


def spooled() -> list[email.message.EmailMessage]:
    """Every spooled message, parsed from its stored bytes, oldest first."""
    return [email.message_from_bytes(outbox_raw(row), policy=email.policy.default)
            for row in OutboxMessage.objects.order_by("id")]
