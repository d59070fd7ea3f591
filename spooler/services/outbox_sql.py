"""The SQL the delivery loop runs for every message, without the ORM's per-row costs.

The ORM's generic paths (a converter call per field and row on reads, get_db_prep_save and bulk_update's
CASE per field on writes, the connection proxy's context-local lookup on every attribute) cost more per
message than the SMTP work they record. These functions do the same reads and writes with plain
statements built once per process and vendor, for SQLite and PostgreSQL alike.
"""
import json
import sqlite3
import time
import uuid
from datetime import UTC, datetime

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models.base import ModelState

from spooler.models import OutboxMessage

_sql_cache: dict = {}


# --- reading ------------------------------------------------------------------------------------------


def _aware(value):
    """A DateTimeField value as the ORM gives it: aware, in UTC (SQLite hands back naive or text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _reader(field):
    """The function turning this field's database value into its Python value, or None when it is the same."""
    kind = field.get_internal_type()
    if kind == "DateTimeField" and settings.USE_TZ:
        return _aware
    if kind == "JSONField":
        return lambda v: json.loads(v) if isinstance(v, str) else v
    if kind == "UUIDField":
        return lambda v: v if isinstance(v, uuid.UUID) else uuid.UUID(v)
    if kind == "BooleanField":
        return bool
    return None


def load_models(queryset) -> list:
    """The model instances of a plain queryset (every concrete field, no select_related), as the ORM would
    give them, read in one statement with a cheap conversion per value."""
    model, alias = queryset.model, queryset.db
    db = connections[alias]
    sql, params = queryset.query.get_compiler(alias).as_sql()
    fields = model._meta.concrete_fields
    readers = _statement(db, ("readers", model), lambda _quote: [_reader(f) for f in fields])
    names = [f.attname for f in fields]
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    if fetched and len(fetched[0]) != len(fields):
        raise ValueError("load_models needs a queryset selecting every concrete field")
    rows = []
    for values in fetched:
        # What Model.from_db does, without Model.__init__'s generic path per field (this model sends no
        # init signals; every concrete field is set).
        row = model.__new__(model)
        row.__dict__.update(zip(names, [v if r is None or v is None else r(v) for r, v in zip(readers, values)]))
        row._state = ModelState()
        row._state.adding, row._state.db = False, alias
        rows.append(row)
    return rows


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
                  f"WHERE {col['id']} = %s AND {col['status']} = %s")
        return select, update, dict(_writers(db, OutboxMessage, ["lease_until", "claim_token"]))

    select, update, writers = _statement(db, "claim", build)
    at, until, token = writers["lease_until"](now), writers["lease_until"](lease_until), writers["claim_token"](token)
    candidates = []
    with db.cursor() as cursor:
        for due_status in statuses:
            cursor.execute(select, [due_status, at, at, limit])
            candidates += [(-priority, due, pk, due_status) for priority, due, pk in cursor.fetchall()]
        candidates = sorted(candidates)[:limit]
        cursor.executemany(update, [[status, token, until, pk, due_status] for _p, _d, pk, due_status in candidates])
    return [pk for _p, _d, pk, _s in candidates]


# --- writing ------------------------------------------------------------------------------------------


def _writer(db, field):
    """The cheapest correct way to turn a value into a query parameter for this connection, or None."""
    kind = field.get_internal_type()
    if kind == "DateTimeField" and db.vendor == "sqlite" and settings.USE_TZ:
        return _sqlite_datetime
    if kind == "DateTimeField":
        return db.ops.adapt_datetimefield_value
    if kind in ("JSONField", "UUIDField"):
        return lambda v: field.get_db_prep_save(v, db)
    return None


def _sqlite_datetime(value, _last=[None, None]):  # noqa: B006 - a one-entry cache, on purpose
    """What adapt_datetimefield_value gives on SQLite (naive UTC, str()), without its per-call checks; the
    same datetime object is often written several times in a row (sent_at, finished_at, next_attempt_at)."""
    if value is not _last[0]:
        _last[0], _last[1] = value, str(value.astimezone(UTC).replace(tzinfo=None))
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


def _params(obj, writers) -> list:
    values = obj.__dict__  # plain attributes on models and SimpleNamespace alike: no descriptor per field
    return [values[attname] if conv is None else _convert(conv, values[attname]) for attname, conv in writers]


def _convert(conv, value):
    return None if value is None else conv(value)


def update_rows(model, rows, fields: list[str]) -> None:
    """UPDATE each row's `fields` with one executemany (bulk_update builds a CASE per field and row)."""
    db = connections[DEFAULT_DB_ALIAS]

    def build(quote):
        meta = model._meta
        sets = ", ".join(f"{quote(meta.get_field(f).column)} = %s" for f in fields)
        return (f"UPDATE {quote(meta.db_table)} SET {sets} WHERE {quote(meta.pk.column)} = %s",
                _writers(db, model, fields))

    sql, writers = _statement(db, ("update", model, tuple(fields)), build)
    with db.cursor() as cursor:
        cursor.executemany(sql, [_params(row, writers) + [row.pk] for row in rows])


def _insert(db, model, fields: list[str]):
    def build(quote):
        meta = model._meta
        columns = ", ".join(quote(meta.get_field(f).column) for f in fields)
        marks = ", ".join(["%s"] * len(fields))
        return f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({marks})", _writers(db, model, fields)

    return _statement(db, ("insert", model, tuple(fields)), build)


def insert_rows(model, objs, fields: list[str]) -> None:
    """INSERT plain objects carrying the attnames of `fields` (a model instance costs more), one executemany."""
    db = connections[DEFAULT_DB_ALIAS]
    sql, writers = _insert(db, model, fields)
    with db.cursor() as cursor:
        cursor.executemany(sql, [_params(obj, writers) for obj in objs])


def insert_now(model, obj, fields: list[str]) -> None:
    """INSERT one row and make it durable at once (autocommit), as cheaply as the database allows: it runs
    once per delivered message."""
    db = connections[DEFAULT_DB_ALIAS]
    sql, writers = _insert(db, model, fields)
    params = _params(obj, writers)
    if db.vendor == "sqlite" and not db.in_atomic_block:
        _sqlite_write_now(db, sql.replace("%s", "?"), params)
        return
    with db.cursor() as cursor:
        if db.vendor == "postgresql" and not db.in_atomic_block:
            # It only has to outlive this worker process, not the database server: no WAL flush wait.
            with transaction.atomic():
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
                cursor.execute(sql, params)
        else:
            cursor.execute(sql, params)


def _sqlite_write_now(db, sql: str, params: list, *, patience: float = 30.0) -> None:
    """One autocommit write on SQLite without its busy handler, which sleeps 1 ms and more whenever another
    process holds the write lock for a few microseconds: retry after 50 µs instead, for up to `patience` s."""
    db.ensure_connection()
    raw = db.connection
    deadline = time.monotonic() + patience
    raw.execute("PRAGMA busy_timeout = 0")
    try:
        while True:
            try:
                raw.execute(sql, params)
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.00005)
    finally:
        raw.execute(f"PRAGMA busy_timeout = {int(patience * 1000)}")
