"""Business logic of the spool: outbound (enqueue, claim, deliver, defer) and inbound (poll, store)."""
