"""Search: the user's messages that match a parsed query (search_query.Query), 50 a page by keyset.

The index is the database's (migration mailboxes 0006_search): FTS5 on SQLite, a tsvector column under GIN on
PostgreSQL, both kept by triggers. A query's words reach the database only as quoted words of letters and digits
(search_query.words) inside a MATCH or to_tsquery string built here, bound as a parameter: no FTS5 or tsquery
syntax can come from the user, so a query can never be a syntax error.

Order: newest first (sort_at, id: the lists' own key) by default, or by relevance (FTS5's bm25 rank, PostgreSQL's
ts_rank; the rank and the id make the cursor). No OFFSET, no COUNT(*): one more row than a page tells whether
there is a next one. Tombstones (box "deleted") are never found: they are not in the index, and are excluded.
"""
import dataclasses
import re

from django.db import connection
from django.db.models import Q
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe

from mailsite.mailboxes.models import Message
from mailsite.mailboxes.placement import Box
from mailsite.webmail import listing
from mailsite.webmail.search_query import Query, Text

PAGE_SIZE = listing.PAGE_SIZE
SORTS = ("date", "relevance")
# Columns the result rows do not show (the text is read, cut, for the snippet).
DEFERRED = ("raw_compressed", "text", "html", "references", "defects")
SNIPPET_TEXT_CHARS = 20_000
SNIPPET_BEFORE, SNIPPET_CHARS = 50, 180

FTS5_COLUMNS = {"subject": "subject", "sender": "sender", "recipients": "{to cc}"}
TSQUERY_WEIGHTS = {"subject": "A", "sender": "B", "recipients": "C"}


@dataclasses.dataclass
class SearchPage:
    rows: list
    query: Query
    sort: str
    next_cursor: str | None
    first: bool
    box: str = "search"  # (the rows' template: not one folder's list)
    folder: str = ""


# --- the query as the index's syntax: words only, each quoted ---------------------------------------------------

def _fts5_words(words) -> str:
    return '"' + " ".join(w.replace('"', '""') for w in words) + '"'


def _fts5_text(text: Text) -> str:
    phrase = _fts5_words(text.words)
    return f"{FTS5_COLUMNS[text.field]} : {phrase}" if text.field else phrase


def fts5_match(texts: list[Text]) -> str:
    """An FTS5 MATCH string: every text ANDed (for the negated ones, the caller ORs them and excludes)."""
    return " AND ".join(_fts5_text(t) for t in texts)


def _tsquery_text(text: Text) -> str:
    weight = ":" + TSQUERY_WEIGHTS[text.field] if text.field else ""
    quoted = ["'" + w.replace("\\", "\\\\").replace("'", "''") + "'" + weight for w in text.words]
    return "(" + " <-> ".join(quoted) + ")"


def tsquery(query: Query) -> str:
    """A to_tsquery('simple', …) string: the texts ANDed, the negated ones as !(…)."""
    parts = [_tsquery_text(t) for t in query.positive] + ["!" + _tsquery_text(t) for t in query.negative]
    return " & ".join(parts)


# --- the rows ------------------------------------------------------------------------------------------------

def _filtered(*, user, query: Query):
    rows = Message.objects.filter(user=user).exclude(box=Box.DELETED)
    for place in query.places:
        where = Q(box=place.box) if place.box != Box.FOLDER else Q(box=Box.FOLDER, folder__iexact=place.folder)
        rows = rows.exclude(where) if place.negated else rows.filter(where)
    if query.has_attachment is not None:
        rows = rows.filter(has_attachments=query.has_attachment)
    if query.unread is not None:
        rows = rows.filter(seen=not query.unread)
    if query.starred is not None:
        rows = rows.filter(flagged=query.starred)
    zone = timezone.get_current_timezone()
    if query.after:
        rows = rows.filter(sort_at__gte=_midnight(query.after, zone))
    if query.before:
        rows = rows.filter(sort_at__lt=_midnight(query.before, zone))
    return rows


def _midnight(day, zone):
    from datetime import datetime, time

    return datetime.combine(day, time.min, tzinfo=zone)


def _rank_cursor(cursor: str | None):
    if not cursor or "|" not in cursor:
        return None
    rank, _, id_text = cursor.rpartition("|")
    try:
        return float(rank), int(id_text)
    except ValueError:
        return None


def search_page(*, user, query: Query, sort: str = "date", cursor: str | None = None) -> SearchPage:
    """One page of the user's messages matching `query` (which must have no error and not be empty).

    Two queries: the page's ids (and rank) in order, then those rows (the list's columns and the start of the
    text, for the snippet), so that no sort ever carries a message's text."""
    sort = sort if sort in SORTS else "date"
    if not query.positive:
        sort = "date"  # (no rank without a word to rank by)
    if sort == "relevance":
        after = _rank_cursor(cursor)
        ranked = _ranked_ids(user=user, query=query, after=after)
    else:
        after = listing.parse_cursor(cursor, "date")
        ranked = [(id_, None) for id_ in _dated_ids(user=user, query=query, after=after)]
    more = len(ranked) > PAGE_SIZE
    ranked = ranked[:PAGE_SIZE]
    by_id = Message.objects.filter(id__in=[id_ for id_, _ in ranked]).defer(*DEFERRED).annotate(
        search_text=Substr("text", 1, SNIPPET_TEXT_CHARS)).in_bulk()
    found = []
    words = query.highlight_words()
    for id_, rank in ranked:
        message = by_id.get(id_)
        if message is None:  # (deleted between the two queries)
            continue
        message.search_rank = rank
        message.search_snippet = snippet(message.search_text or message.snippet, words)
        found.append(message)
    next_cursor = None
    if more and found:
        last = found[-1]
        next_cursor = (f"{last.search_rank!r}|{last.id}" if sort == "relevance"
                       else listing.make_cursor(last, "date"))
    return SearchPage(rows=found, query=query, sort=sort, next_cursor=next_cursor, first=after is None)


def _negative_fts5(query: Query) -> str:
    return " OR ".join(_fts5_text(t) for t in query.negative)


def _dated_ids(*, user, query: Query, after) -> list[int]:
    """Newest first: the user's rows by (sort_at, id) in message_search_by_date, kept if the index matches."""
    rows = _filtered(user=user, query=query)
    if connection.vendor == "postgresql":
        if query.texts:
            rows = rows.extra(where=["webmail_message.search_vector @@ to_tsquery('simple', %s)"],
                              params=[tsquery(query)])
    else:
        # "+id": the id IN (…) test must not drive the plan (by rowid, then a sort of every match); the walk by
        # date does, and asks the set of matched ids (made once) about each row.
        if query.positive:
            rows = rows.extra(where=["+webmail_message.id IN (SELECT rowid FROM webmail_message_fts "
                                     "WHERE webmail_message_fts MATCH %s)"], params=[fts5_match(query.positive)])
        if query.negative:
            rows = rows.extra(where=["+webmail_message.id NOT IN (SELECT rowid FROM webmail_message_fts "
                                     "WHERE webmail_message_fts MATCH %s)"], params=[_negative_fts5(query)])
    if after is not None:
        key, id_ = after
        rows = rows.filter(Q(sort_at__lte=key), Q(sort_at__lt=key) | Q(id__lt=id_))
    return list(rows.order_by("-sort_at", "-id").values_list("id", flat=True)[:PAGE_SIZE + 1])


def _ranked_ids(*, user, query: Query, after) -> list[tuple[int, float]]:
    """Best match first: (id, rank) by rank, then id. SQLite: FTS5's bm25 (lower is better), the ranked matches
    joined to the user's filtered rows; PostgreSQL: ts_rank (higher is better) of every match."""
    rows = _filtered(user=user, query=query)
    if connection.vendor == "postgresql":
        q = tsquery(query)
        rank = "ts_rank(webmail_message.search_vector, to_tsquery('simple', %s))::float8"
        rows = rows.extra(where=["webmail_message.search_vector @@ to_tsquery('simple', %s)"], params=[q],
                          select={"search_rank": rank}, select_params=[q])
        if after is not None:
            value, id_ = after
            rows = rows.extra(where=[f"({rank} < %s OR ({rank} = %s AND webmail_message.id < %s))"],
                              params=[q, value, q, value, id_])
        return list(rows.order_by("-search_rank", "-id").values_list("id", "search_rank")[:PAGE_SIZE + 1])
    match = fts5_match(query.positive)
    if query.negative:
        match = f"({match}) NOT ({_negative_fts5(query)})"
    base, base_params = rows.order_by().values("id").query.sql_with_params()
    keyset, keyset_params = "", []
    if after is not None:
        keyset, keyset_params = "AND (f.rank > %s OR (f.rank = %s AND f.id > %s))", [after[0], after[0], after[1]]
    # MATERIALIZED: bm25 once per match (a flattened subquery computes it again in every comparison of the sort).
    sql = (f"WITH f AS MATERIALIZED (SELECT rowid AS id, rank FROM webmail_message_fts "
           f"WHERE webmail_message_fts MATCH %s) "
           f"SELECT f.id, f.rank FROM f WHERE f.id IN ({base}) {keyset} ORDER BY f.rank, f.id LIMIT {PAGE_SIZE + 1}")
    with connection.cursor() as cursor:
        cursor.execute(sql, [match, *base_params, *keyset_params])
        return [(id_, rank) for id_, rank in cursor.fetchall()]


# --- the snippet ---------------------------------------------------------------------------------------------

def snippet(text: str, words: list[str]):
    """A piece of `text` around the first of `words` found, escaped, the words in <mark>; safe HTML."""
    text = " ".join((text or "").split())
    if not words:
        return text[:SNIPPET_CHARS]
    pattern = re.compile(r"(?<![^\W_])(?:" + "|".join(re.escape(w) for w in words) + r")(?![^\W_])", re.I)
    first = pattern.search(text)
    start = max(0, first.start() - SNIPPET_BEFORE) if first else 0
    piece = text[start:start + SNIPPET_CHARS]
    out, last = ["…" if start else ""], 0
    for hit in pattern.finditer(piece):
        out += [escape(piece[last:hit.start()]), "<mark>", escape(hit.group()), "</mark>"]
        last = hit.end()
    out.append(escape(piece[last:]))
    if start + SNIPPET_CHARS < len(text):
        out.append("…")
    return mark_safe("".join(out))
