"""The delivery latency histogram of /metrics, bucketed in one statement: each row's latency is computed once (a
derived table) with the vendor's own date arithmetic, from the spooler_outbox_sent_latency index alone. Through the ORM it was a Python function call per row and
bucket on SQLite (6 s for 50,000 rows, bench/metrics.py)."""
from django.db import DEFAULT_DB_ALIAS, connections

from spooler.models import OutboxMessage, OutboxStatus

# Seconds from a row's commit (or its scheduled time) to the relay's 250.
_LATENCY = {
    "sqlite": "(julianday({sent}) - julianday(COALESCE({not_before}, {created}))) * 86400.0",
    "postgresql": "EXTRACT(EPOCH FROM ({sent} - COALESCE({not_before}, {created})))",
}


def sent_latency_buckets(*, since, bounds: tuple[float, ...]) -> dict[int, tuple[int, float]]:
    """{bucket index: (rows, sum of their seconds)} of the rows sent and finished since `since`: bucket i holds the
    latencies in (bounds[i-1], bounds[i]], bucket len(bounds) the ones above the last bound."""
    db = connections[DEFAULT_DB_ALIAS]
    quote = db.ops.quote_name
    meta = OutboxMessage._meta
    column = {name: quote(meta.get_field(name).column)
              for name in ("sent_at", "not_before", "created_at", "finished_at", "status")}
    latency = _LATENCY[db.vendor].format(sent=column["sent_at"], not_before=column["not_before"],
                                         created=column["created_at"])
    cases = " ".join("WHEN lat <= %s THEN {}".format(i) for i in range(len(bounds)))
    sql = (f"SELECT bucket, COUNT(*), SUM(lat) FROM ("
           f"SELECT CASE {cases} ELSE {len(bounds)} END AS bucket, lat FROM ("
           f"SELECT {latency} AS lat FROM {quote(meta.db_table)} "
           f"WHERE {column['status']} = %s AND {column['finished_at']} >= %s AND {column['sent_at']} IS NOT NULL"
           f") l) b GROUP BY bucket")
    params = [*bounds, OutboxStatus.SENT.value, db.ops.adapt_datetimefield_value(since)]
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        return {int(bucket): (count, float(total or 0.0)) for bucket, count, total in cursor.fetchall()}
