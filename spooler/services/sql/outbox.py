"""The spool's claim and the load of a claimed batch, as two hand-written statements each (see sql/__init__.py)."""
from django.db import DEFAULT_DB_ALIAS, connections

from spooler.models import OutboxBlob, OutboxBody, OutboxMessage, OutboxPart
from spooler.services.sql.values import reader, statement, writers


# What delivery does not read: left deferred (the ORM loads such a field if it is ever asked for), or known
# from the claim itself.
_NOT_LOADED = {"user", "message_id", "subject", "not_before", "created_at", "bounced_at"}
_FROM_CLAIM = {"status", "claim_token", "lease_until"}


def load_claimed(*, status, token, lease_until) -> list[OutboxMessage]:
    """The rows of one claim (`status`, `token`, `lease_until`), in sending order (relay, priority, due time),
    as the ORM would give them (a few fields deferred), each with `claimed_raw` (its body's bytes) and
    `claimed_parts` ([(offset, bytes)] of the part bodies cut out of it): two statements for the whole batch."""
    db = connections[DEFAULT_DB_ALIAS]
    all_fields = OutboxMessage._meta.concrete_fields
    fields = [f for f in all_fields if f.name not in _NOT_LOADED | _FROM_CLAIM]

    def build(quote):
        meta, body, part, blob = (m._meta for m in (OutboxMessage, OutboxBody, OutboxPart, OutboxBlob))
        col = {f.name: f"m.{quote(f.column)}" for f in all_fields}
        claimed = f"{col['status']} = %s AND {col['claim_token']} = %s"
        rows = (f"SELECT {', '.join(col[f.name] for f in fields)}, b.{quote(body.get_field('raw').column)} "
                f"FROM {quote(meta.db_table)} m JOIN {quote(body.db_table)} b "
                f"ON b.{quote(body.pk.column)} = {col['id']} WHERE {claimed} "
                f"ORDER BY {col['relay']}, {col['priority']} DESC, {col['next_attempt_at']}, {col['id']}")
        pcol = {f.name: f"p.{quote(f.column)}" for f in part.concrete_fields}
        parts = (f"SELECT {pcol['message']}, {pcol['offset']}, d.{quote(blob.get_field('data').column)} "
                 f"FROM {quote(part.db_table)} p "
                 f"JOIN {quote(blob.db_table)} d ON d.{quote(blob.pk.column)} = {pcol['blob']} "
                 f"JOIN {quote(meta.db_table)} m ON {col['id']} = {pcol['message']} "
                 f"WHERE {claimed} ORDER BY {pcol['offset']}")
        return rows, parts, [reader(f) for f in fields], writers(db, OutboxMessage, ["claim_token"])[0][1]

    rows_sql, parts_sql, readers, token_param = statement(db, "load-claimed", build)
    params = [status, token_param(token)]
    with db.cursor() as cursor:
        cursor.execute(rows_sql, params)
        fetched = cursor.fetchall()
        cursor.execute(parts_sql, params)
        parts = cursor.fetchall()
    # Model.from_db's order: every loaded field in concrete-field order, the claim's own values in their places.
    loaded = [f for f in all_fields if f.name not in _NOT_LOADED]
    names = [f.attname for f in loaded]
    claim = {"status": status, "claim_token": token, "lease_until": lease_until}
    place = {f.name: i for i, f in enumerate(fields)}
    picks = [(place[f.name], None) if f.name in place else (None, claim[f.name]) for f in loaded]
    rows = []
    for values in fetched:
        converted = [v if r is None or v is None else r(v) for r, v in zip(readers, values)]
        row = OutboxMessage.from_db(db.alias, names, [converted[i] if i is not None else c for i, c in picks])
        row.claimed_raw, row.claimed_parts = bytes(values[-1]), []
        rows.append(row)
    by_id = {row.id: row for row in rows}
    for message_id, offset, data in parts:
        by_id[message_id].claimed_parts.append((offset, bytes(data)))
    return rows


def claim_due(*, statuses, now, limit: int, status, token, lease_until) -> list[int]:
    """In the caller's transaction: set `status`, `token` and `lease_until` on up to `limit` rows due at `now`
    (status in `statuses`, next_attempt_at and not_before passed), highest priority and oldest first.
    Returns their ids."""
    db = connections[DEFAULT_DB_ALIAS]

    def build(quote):
        meta = OutboxMessage._meta
        table, col = quote(meta.db_table), {f.name: quote(f.column) for f in meta.concrete_fields}
        # One status per query, so that it walks the (status, priority, next_attempt_at, id) index in order and
        # stops after `limit` rows, instead of sorting every due row.
        select = (f"SELECT {col['priority']}, {col['next_attempt_at']}, {col['id']} FROM {table} "
                  f"WHERE {col['status']} = %s AND {col['next_attempt_at']} <= %s "
                  f"AND ({col['not_before']} IS NULL OR {col['not_before']} <= %s) "
                  f"ORDER BY {col['priority']} DESC, {col['next_attempt_at']}, {col['id']} LIMIT %s")
        if db.vendor == "postgresql":
            select += " FOR UPDATE SKIP LOCKED"
        update = (f"UPDATE {table} SET {col['status']} = %s, {col['claim_token']} = %s, {col['lease_until']} = %s "
                  f"WHERE {col['status']} IN ({', '.join(['%s'] * len(statuses))}) AND {col['id']} ")
        return select, update, dict(writers(db, OutboxMessage, ["lease_until", "claim_token"]))

    select, update, convert = statement(db, "claim", build)
    at, until, token = convert["lease_until"](now), convert["lease_until"](lease_until), convert["claim_token"](token)
    candidates = []
    with db.cursor() as cursor:
        for due_status in statuses:
            cursor.execute(select, [due_status, at, at, limit])
            candidates += [(-priority, due, pk) for priority, due, pk in cursor.fetchall()]
        ids = [pk for _p, _d, pk in sorted(candidates)[:limit]]
        if ids and db.vendor == "postgresql":  # (one array: a placeholder per id makes psycopg parse it anew)
            cursor.execute(update + "= ANY(%s)", [status, token, until, *statuses, ids])
        elif ids:
            cursor.execute(update + f"IN ({', '.join(['%s'] * len(ids))})", [status, token, until, *statuses, *ids])
    return ids
