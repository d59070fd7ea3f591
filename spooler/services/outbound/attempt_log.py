"""One log line per recorded delivery attempt (logger "spooler.delivery"), with its facts as `extra` fields: with
LOG_FORMAT=json each is one JSON object (settings.LOGGING). Never the message's content or a password: only ids,
counts, the relay's host:port, the server's reply and the outcome."""
import logging

from spooler.models import OutboxMessage
from spooler.services.outbound.relays import relay_labels

logger = logging.getLogger("spooler.delivery")


def attempts_log(*, rows: list[OutboxMessage], attempts: list) -> None:
    """Log the attempts (outcomes.Attempt) of these rows, once they are committed."""
    if not attempts or not logger.isEnabledFor(logging.INFO):
        return
    relay_of = {row.id: row.relay_id for row in rows}
    labels = relay_labels(relay_of.values())
    for attempt in attempts:
        relay = labels.get(relay_of.get(attempt.message_id), "unknown")
        fields = {"event": "delivery_attempt", "outbox_id": attempt.message_id, "relay": relay,
                  "recipients": getattr(attempt, "recipients", 0), "code": attempt.code,
                  "duration_ms": attempt.duration_ms, "outcome": attempt.outcome, "reply": attempt.text[:200]}
        logger.info("delivery attempt outbox=%s relay=%s recipients=%s code=%s duration_ms=%s outcome=%s: %s",
                    attempt.message_id, relay, fields["recipients"], attempt.code, attempt.duration_ms,
                    attempt.outcome, fields["reply"], extra=fields)
