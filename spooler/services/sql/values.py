"""How values go between Python and the hand-written statements: the converters the ORM would apply (built
once per field, applied only where a value needs one), the statement cache, id lists in chunks."""
import json
import operator
import uuid
from datetime import UTC, datetime

from django.conf import settings

_sql_cache: dict = {}


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


def reader(field):
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


def statement(db, key, build):
    """Built once per process and database vendor: SQL, converters."""
    cached = _sql_cache.get((key, db.vendor))
    if cached is None:
        cached = _sql_cache[(key, db.vendor)] = build(db.ops.quote_name)
    return cached


def writers(db, model, names):
    fields = [model._meta.get_field(n) for n in names]
    return [(f.attname, _writer(db, f)) for f in fields]


def param_maker(writers):
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


def recordset(db, model, names):
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


def in_chunks(items: list, size: int = 500):
    """`items` a slice at a time, for `id__in` lists: a statement per few hundred values (SQLite caps the
    parameters of one statement; PostgreSQL parses a shorter one faster)."""
    for start in range(0, len(items), size):
        yield items[start:start + size]
