"""The SQL the delivery loop runs for every message, without the ORM's per-row costs.

The ORM's generic paths (a converter call per field and row on reads, get_db_prep_save and bulk_update's
CASE per field on writes, the connection proxy's context-local lookup on every attribute) cost more per
message than the SMTP work they record. These functions do the same reads and writes with plain
statements built once per process and vendor, for SQLite and PostgreSQL alike.
"""
import json
import operator
import sqlite3
import sys
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections, transaction
from django.db.models.base import ModelState

from spooler.models import OutboxBlob, OutboxBody, OutboxMessage, OutboxPart

_sql_cache: dict = {}


# --- reading ------------------------------------------------------------------------------------------


def _aware(value):
    """A DateTimeField value as the ORM gives it: aware, in UTC (SQLite hands back naive or text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


_scan_json = json.JSONDecoder().scan_once


def _json(value):
    """A JSONField's text as the ORM decodes it; the C scanner straight away (json.loads wraps it in Python
    that costs more than the scan, for the short texts the spool keeps)."""
    if not isinstance(value, str):
        return value
    try:
        decoded, end = _scan_json(value, 0)
    except StopIteration:
        return json.loads(value)  # (leading white space) or the error json.loads gives
    return decoded if end == len(value) else json.loads(value)


def _reader(field):
    """The function turning this field's database value into its Python value, or None when it is the same."""
    kind = field.get_internal_type()
    if kind == "DateTimeField" and settings.USE_TZ:
        return _aware
    if kind == "JSONField":
        return _json
    if kind == "UUIDField":
        return lambda v: v if isinstance(v, uuid.UUID) else uuid.UUID(v)
    if kind == "BooleanField":
        return bool
    return None


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
        return rows, parts, [_reader(f) for f in fields], _writers(db, OutboxMessage, ["claim_token"])[0][1]

    rows_sql, parts_sql, readers, token_param = _statement(db, "load-claimed", build)
    params = [status, token_param(token)]
    with db.cursor() as cursor:
        cursor.execute(rows_sql, params)
        fetched = cursor.fetchall()
        cursor.execute(parts_sql, params)
        parts = cursor.fetchall()
    names = [f.attname for f in fields]
    claim = {"status": status, "claim_token": token, "lease_until": lease_until}
    rows = []
    for values in fetched:
        # What Model.from_db does, without Model.__init__'s generic path per field (this model sends no init
        # signals).
        row = OutboxMessage.__new__(OutboxMessage)
        row.__dict__.update(zip(names, [v if r is None or v is None else r(v) for r, v in zip(readers, values)]))
        row.__dict__.update(claim)
        row._state = ModelState()
        row._state.adding, row._state.db = False, db.alias
        row.claimed_raw, row.claimed_parts = bytes(values[-1]), []
        rows.append(row)
    by_id = {row.id: row for row in rows}
    for message_id, offset, data in parts:
        by_id[message_id].claimed_parts.append((offset, bytes(data)))
    return rows


def in_chunks(items: list, size: int = 500):
    """`items` a slice at a time, for `id__in` lists: a statement per few hundred values (SQLite caps the
    parameters of one statement; PostgreSQL parses a shorter one faster)."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


# --- claiming ---------------------------------------------------------------------------------------


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
        return select, update, dict(_writers(db, OutboxMessage, ["lease_until", "claim_token"]))

    select, update, writers = _statement(db, "claim", build)
    at, until, token = writers["lease_until"](now), writers["lease_until"](lease_until), writers["claim_token"](token)
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


# --- writing ------------------------------------------------------------------------------------------


def _writer(db, field):
    """The cheapest correct way to turn a value into a query parameter for this connection, or None."""
    kind = field.get_internal_type()
    if kind == "DateTimeField" and db.vendor == "sqlite" and settings.USE_TZ:
        return _sqlite_datetime
    if kind == "DateTimeField":
        return db.ops.adapt_datetimefield_value
    if kind == "JSONField" and db.vendor == "sqlite" and field.encoder is None:
        return lambda v: "{}" if v == {} else json.dumps(v)  # what get_db_prep_save ends in, on SQLite
    if kind == "JSONField":
        return lambda v: db.ops.adapt_json_value(v, field.encoder)
    if kind == "UUIDField":
        return lambda v: field.get_db_prep_save(v, db)
    return None


def _sqlite_datetime(value, _last=[None, None]):  # noqa: B006 - a one-entry cache, on purpose
    """What adapt_datetimefield_value gives on SQLite (naive UTC, str()), without its per-call checks; the
    same datetime object is often written several times in a row (sent_at, finished_at, next_attempt_at)."""
    if value is not _last[0]:
        utc = value if value.tzinfo is UTC else value.astimezone(UTC)
        _last[0], _last[1] = value, utc.isoformat(" ")[:-6]  # (= str() of the naive UTC time, minus "+00:00")
    return _last[1]


def _statement(db, key, build):
    """Built once per process and database vendor: SQL, converters."""
    cached = _sql_cache.get((key, db.vendor))
    if cached is None:
        cached = _sql_cache[(key, db.vendor)] = build(db.ops.quote_name)
    return cached


def _writers(db, model, names):
    fields = [model._meta.get_field(n) for n in names]
    return [(f.attname, _writer(db, f)) for f in fields]


def _param_maker(writers):
    """A function giving an object's query parameters for these writers, from its __dict__ (plain attributes
    on models and SimpleNamespace alike: no descriptor per field), converting only where needed."""
    get = operator.itemgetter(*[attname for attname, _conv in writers])
    converted = [(i, conv) for i, (_attname, conv) in enumerate(writers) if conv is not None]

    def params(obj) -> list:
        values = list(get(obj.__dict__)) if len(writers) > 1 else [get(obj.__dict__)]
        for i, conv in converted:
            if values[i] is not None:
                values[i] = conv(values[i])
        return values

    return params


def update_rows(model, rows, fields: list[str]) -> None:
    """UPDATE each row's `fields` (bulk_update builds a CASE per field and row): on PostgreSQL one statement
    for all the rows (see _recordset), elsewhere one executemany."""
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor == "postgresql":

        def build_pg(quote):
            meta = model._meta
            source, columns, as_json = _recordset(db, model, [*fields, meta.pk.name])
            sets = ", ".join(f"{quote(meta.get_field(f).column)} = v.{c}" for f, c in zip(fields, columns))
            return (f"UPDATE {quote(meta.db_table)} AS t SET {sets} FROM {source} "
                    f"WHERE t.{quote(meta.pk.column)} = v.{columns[-1]}", as_json)

        sql, as_json = _statement(db, ("update-recordset", model, tuple(fields)), build_pg)
        with db.cursor() as cursor:
            cursor.execute(sql, [as_json(rows)])
        return

    def build(quote):
        meta = model._meta
        sets = ", ".join(f"{quote(meta.get_field(f).column)} = %s" for f in fields)
        return (f"UPDATE {quote(meta.db_table)} SET {sets} WHERE {quote(meta.pk.column)} = %s",
                _param_maker(_writers(db, model, [*fields, meta.pk.name])))

    sql, params = _statement(db, ("update", model, tuple(fields)), build)
    with db.cursor() as cursor:
        cursor.executemany(sql, [params(row) for row in rows])


def _recordset(db, model, names):
    """PostgreSQL: every row's values as one JSON parameter, read back as a table by json_to_recordset.

    A statement with a placeholder per value costs more than the rows it writes: psycopg parses a long query
    anew on every call (it caches only short ones) and quotes each value in Python; executemany costs the
    server a statement per row. One JSON document is built by the json module's C encoder and parsed once by
    the server. Returns (the FROM source `… AS v(c0 type, …)`, the column aliases, rows → the parameter)."""
    fields = [model._meta.get_field(n) for n in names]
    columns = [f"c{i}" for i in range(len(fields))]  # (not the field names: no clash with the table's columns)
    source = (f"json_to_recordset(%s::json) AS v({', '.join(f'{c} {f.db_type(db)}' for c, f in zip(columns, fields))})")
    get = operator.itemgetter(*[f.attname for f in fields])
    converted = [(i, conv) for i, f in enumerate(fields) if (conv := _json_writer(f)) is not None]

    def as_json(objs) -> str:
        records = []
        for obj in objs:
            values = list(get(obj.__dict__))
            for i, conv in converted:
                if values[i] is not None:
                    values[i] = conv(values[i])
            records.append(dict(zip(columns, values)))
        return json.dumps(records, ensure_ascii=False, separators=(",", ":"))

    return source, columns, as_json


def _json_writer(field):
    """How a value of this field goes into _recordset's JSON (None: as it is: numbers, text, booleans, and a
    JSONField's value, which becomes the jsonb column's value)."""
    kind = field.get_internal_type()
    if kind == "DateTimeField":
        return datetime.isoformat  # (aware: the offset goes with it)
    if kind == "UUIDField":
        return str
    if kind in {"AutoField", "BigAutoField", "ForeignKey", "OneToOneField", "IntegerField", "PositiveIntegerField",
                "SmallIntegerField", "BigIntegerField", "CharField", "TextField", "BooleanField"} or (
            kind == "JSONField" and field.encoder is None):
        return None
    raise TypeError(f"{field.name}: {kind} has no JSON form here")  # (a field the spool does not write this way)


def _insert(db, model, fields: list[str], *, no_flush_wait=False):
    def build(quote):
        meta = model._meta
        columns = ", ".join(quote(meta.get_field(f).column) for f in fields)
        marks = ", ".join(["%s"] * len(fields))
        sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({marks})"
        if no_flush_wait:
            # synchronous_commit off for this statement's own transaction, set while it runs (so before its
            # commit), in the one round trip: BEGIN, SET LOCAL, INSERT and COMMIT were four.
            sql += " RETURNING set_config('synchronous_commit', 'off', true)"
        return sql, _param_maker(_writers(db, model, fields))

    return _statement(db, ("insert", model, tuple(fields), no_flush_wait), build)


def insert_rows(model, objs, fields: list[str]) -> None:
    """INSERT plain objects carrying the attnames of `fields` (a model instance costs more): on PostgreSQL one
    statement for all of them (see _recordset), elsewhere one executemany."""
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor == "postgresql":

        def build_pg(quote):
            meta = model._meta
            source, columns, as_json = _recordset(db, model, fields)
            targets = ", ".join(quote(meta.get_field(f).column) for f in fields)
            return f"INSERT INTO {quote(meta.db_table)} ({targets}) SELECT {', '.join(columns)} FROM {source}", as_json

        sql, as_json = _statement(db, ("insert-recordset", model, tuple(fields)), build_pg)
        with db.cursor() as cursor:
            cursor.execute(sql, [as_json(objs)])
        return
    sql, params = _insert(db, model, fields)
    with db.cursor() as cursor:
        cursor.executemany(sql, [params(obj) for obj in objs])


def insert_now(model, obj, fields: list[str]) -> None:
    """INSERT one row and make it durable at once (autocommit), as cheaply as the database allows: it runs
    once per delivered message. On PostgreSQL it only has to outlive this worker process, not the database
    server, so its commit does not wait for the WAL flush."""
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor != "postgresql" or db.in_atomic_block:
        sql, make_params = _insert(db, model, fields)
        with db.cursor() as cursor:
            cursor.execute(sql, make_params(obj))
        return
    sql, make_params = _insert(db, model, fields, no_flush_wait=True)
    params = make_params(obj)
    with db.wrap_database_errors:  # (Django's errors, as its own cursors raise them)
        _kept_cursor(db).execute(sql, params)


def _kept_cursor(db):
    """A driver cursor kept open on the current connection: db.cursor() makes and wraps a new one per call,
    a quarter of what insert_now costs the worker."""
    db.ensure_connection()
    kept = getattr(db, "_spool_kept_cursor", None)
    if kept is None or kept[0] is not db.connection or kept[1].closed:
        kept = db._spool_kept_cursor = (db.connection, db.connection.cursor())
    return kept[1]


@contextmanager
def write_transaction():
    """transaction.atomic() for the delivery loop's short writes (claims, a batch's outcomes). On SQLite it
    waits for the write lock as below, not with SQLite's busy handler."""
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor != "sqlite" or db.in_atomic_block:
        with transaction.atomic():
            yield
        return
    atomic = transaction.atomic()
    _sqlite_when_unlocked(db, atomic.__enter__)  # BEGIN IMMEDIATE takes the write lock (a failed one leaves no state)
    try:
        yield
    except BaseException:
        if not atomic.__exit__(*sys.exc_info()):
            raise
    else:
        atomic.__exit__(None, None, None)


def _sqlite_when_unlocked(db, attempt, *, patience: float = 30.0):
    """Run `attempt` (something that takes SQLite's write lock) until it gets the lock. SQLite's own busy
    handler sleeps 1 ms, then 2, 5, 10... whenever another process holds the lock, even for microseconds,
    and worker processes take it for every claim and every batch's outcomes; retry after 50 µs instead,
    doubling up to 1 ms, for up to `patience` seconds."""
    db.ensure_connection()
    raw = db.connection
    busy_timeout = raw.execute("PRAGMA busy_timeout").fetchone()[0]
    deadline, delay = time.monotonic() + patience, 0.00005
    raw.execute("PRAGMA busy_timeout = 0")
    try:
        while True:
            try:
                return attempt()
            except (sqlite3.OperationalError, OperationalError) as exc:
                if "locked" not in str(exc) and "busy" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.001)
    finally:
        raw.execute(f"PRAGMA busy_timeout = {int(busy_timeout)}")
