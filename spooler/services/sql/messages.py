"""The poller's insert: a batch of messages in one multi-row INSERT … RETURNING id, written here rather than
bulk_create(): the ORM's per-field preparation was the poller's largest cost (profiled)."""
from django.db import connection
from django.utils import timezone

from mailsite.mailboxes.models import Message
from mailsite.mailboxes.placement import placement

# Every column of a message row, in one order.
COLUMNS = [f for f in Message._meta.concrete_fields if not f.primary_key]
_DEFAULTS = {f.attname: f.get_default() for f in COLUMNS}
_DATETIMES = {f.attname for f in COLUMNS if f.get_internal_type() == "DateTimeField"}


def message_row(**values) -> dict:
    """A message's column values by attname: the fields' defaults, fetched now, then `values`, then where it is
    listed and how it sorts (mailboxes.placement) unless `values` says."""
    row = dict(_DEFAULTS)
    row["fetched_at"] = timezone.now()
    row.update(placement(folder=values.get("folder", ""), date=values.get("date"), fetched_at=row["fetched_at"],
                         sender=values.get("sender", ""), subject=values.get("subject", "")))
    row.update(values)
    return row


def insert_messages(rows: list[dict]) -> list[int]:
    """INSERT these rows (as message_row gives them) in the caller's transaction. Returns their ids, in order."""
    adapt = connection.ops.adapt_datetimefield_value
    values = [[adapt(row[f.attname]) if f.attname in _DATETIMES else row[f.attname] for f in COLUMNS] for row in rows]
    if connection.vendor == "postgresql":
        return _insert_postgresql(values)
    sql = _insert_sql(", ".join(["(" + ", ".join(["%s"] * len(COLUMNS)) + ")"] * len(values)))
    with connection.cursor() as cursor:
        cursor.execute(sql, [value for row in values for value in row])
        return [found[0] for found in cursor.fetchall()]


def _insert_sql(values: str) -> str:
    qn = connection.ops.quote_name
    return (f"INSERT INTO {qn(Message._meta.db_table)} ({', '.join(qn(f.column) for f in COLUMNS)}) "
            f"VALUES {values} RETURNING {qn('id')}")


def _insert_postgresql(rows: list[list]) -> list[int]:
    """The multi-row INSERT … RETURNING on Django's connection and transaction, through a psycopg RawCursor:
    native $n placeholders (psycopg does not have to scan a long query for %s) bound by the server, so bytes
    go as they are, not written into the SQL text as hex as Django's client-side binding would (twice the size)."""
    import psycopg

    width = len(COLUMNS)
    sql = _insert_sql(", ".join("(" + ", ".join(f"${r * width + k + 1}" for k in range(width)) + ")"
                                for r in range(len(rows))))
    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.RawCursor(connection.connection) as cursor:
        cursor.execute(sql, [value for row in rows for value in row])
        return [found[0] for found in cursor.fetchall()]
