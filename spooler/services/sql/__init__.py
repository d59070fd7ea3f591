"""The hand-written SQL of the hot paths: the spool's claim, load and bulk writes, and the poller's message insert.

The ORM's generic paths (a converter call per field and row on reads, get_db_prep_save and bulk_update's CASE per
field on writes, the connection proxy's context-local lookup on every attribute) cost more per message than the SMTP
or POP3 work they record. These modules do the same reads and writes with plain statements built once per process
and vendor, for SQLite and PostgreSQL alike, through Django's public APIs (connection.cursor(), transaction.atomic,
Model.from_db) except where a comment gives the figure that keeps an internal.

  values.py        converters between Python and the statements, the statement cache, id lists in chunks
  outbox.py        the claim and the load of a claimed batch
  rows.py          bulk UPDATE/INSERT of a batch's outcomes and attempts; the one durable INSERT per message
  transactions.py  the short write transactions, and SQLite's write lock without its busy handler
  messages.py      the poller's multi-row INSERT of messages
  metrics.py       the delivery latency histogram of /metrics, bucketed in one statement
"""
