"""Search: the user's messages that match a parsed query (search_query.Query), 50 a page by keyset.

The index is the database's (migration mailboxes 0007_search): FTS5 on SQLite, a tsvector column under GIN on
PostgreSQL, both kept by triggers. A query's words reach the database only as quoted words of letters and digits
(search_query.words) inside a MATCH or to_tsquery string built here, bound as a parameter: no FTS5 or tsquery
syntax can come from the user, so a query can never be a syntax error.

Order: newest first (sort_at, id: the lists' own key) by default, or best match (FTS5's bm25 rank, PostgreSQL's
ts_rank) among the newest RANK_WINDOW matches (ranking every match of a common word costs a read of each; the
rank and the id make the cursor). No OFFSET, no COUNT(*): one more row than a page tells whether there is a next
one. Tombstones (box "deleted") are never found: they are not in the index, and are excluded.

Newest first on SQLite, two plans chosen by how many messages match (FTS5 gives up to FEW_MATCHES + 1 ids of the
user's, cheaply, as its MATCH is scoped to the user): few, and those rows are read and sorted; many, and the
user's messages are walked by date (index message_search_by_date), each asked of FTS5 by rowid, until a page is
full. On PostgreSQL the planner chooses between the GIN index and the walk by date from its statistics.
"""
import dataclasses
import re
from datetime import datetime, time

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
# Up to this many matches, their rows are sorted by date (10,000 rowid lookups: ~10 ms at 100k, measured); over
# it, the walk by date (at least one row in ten matches then for a user of 100k messages).
FEW_MATCHES = 10_000
RANK_WINDOW = 2000
# Columns the result rows do not show (the text is read, cut, for the snippet).
DEFERRED = ("raw_compressed", "text", "html", "references", "defects")
SNIPPET_TEXT_CHARS = 20_000
SNIPPET_BEFORE, SNIPPET_CHARS = 50, 180

FTS5_COLUMNS = {None: "{subject sender to cc text}", "subject": "subject", "sender": "sender",
                "recipients": "{to cc}"}
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
    return f"{FTS5_COLUMNS[text.field]} : {_fts5_words(text.words)}"


def fts5_match(query: Query, *, user_id: int) -> str:
    """An FTS5 MATCH string: the user's rows, every positive text ANDed, then NOT any of the negated ones."""
    match = " AND ".join([f'user_id : "{int(user_id)}"'] + [_fts5_text(t) for t in query.positive])
    if query.negative:
        match = f"({match}) NOT ({' OR '.join(_fts5_text(t) for t in query.negative)})"
    return match


def _tsquery_text(text: Text) -> str:
    weight = ":" + TSQUERY_WEIGHTS[text.field] if text.field else ""
    quoted = ["'" + w.replace("\\", "\\\\").replace("'", "''") + "'" + weight for w in text.words]
    return "(" + " <-> ".join(quoted) + ")"


def tsquery(query: Query) -> str:
    """A to_tsquery('simple', …) string: the texts ANDed, the negated ones as !(…)."""
    parts = [_tsquery_text(t) for t in query.positive] + ["!" + _tsquery_text(t) for t in query.negative]
    return " & ".join(parts)


# --- the rows ------------------------------------------------------------------------------------------------

def _filters(query: Query) -> bool:
    return bool(query.places or query.after or query.before) or any(
        v is not None for v in (query.has_attachment, query.unread, query.starred))


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
        rows = rows.filter(sort_at__gte=datetime.combine(query.after, time.min, tzinfo=zone))
    if query.before:
        rows = rows.filter(sort_at__lt=datetime.combine(query.before, time.min, tzinfo=zone))
    return rows


def _rank_cursor(cursor: str | None):
    if not cursor or "|" not in cursor:
        return None
    rank, _, id_text = cursor.rpartition("|")
    try:
        rank, id_ = float(rank), int(id_text)
    except ValueError:
        return None
    return (rank, id_) if rank == rank and abs(rank) != float("inf") else None


def search_page(*, user, query: Query, sort: str = "date", cursor: str | None = None) -> SearchPage:
    """One page of the user's messages matching `query` (which must have no error and not be empty).

    The page's ids (and ranks) in order first, then those rows (the list's columns and the start of the text,
    for the snippet): no sort ever carries a message's text."""
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
    # (user and box again: the index is only trusted to narrow, never to scope)
    by_id = Message.objects.filter(user=user, id__in=[id_ for id_, _ in ranked]).exclude(box=Box.DELETED).defer(
        *DEFERRED).annotate(search_text=Substr("text", 1, SNIPPET_TEXT_CHARS)).in_bulk()
    found = []
    words = query.highlight_words()
    for id_, rank in ranked:
        message = by_id.get(id_)
        if message is None:  # (gone between the two queries)
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


def _fts5_ids(match: str, limit: int, rank: bool = False) -> list:
    """The newest `limit` rowids FTS5 matches (with their bm25 rank when asked)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT rowid{', rank' if rank else ''} FROM webmail_message_fts "
                       f"WHERE webmail_message_fts MATCH %s ORDER BY rowid DESC LIMIT %s", [match, limit])
        return [row if rank else row[0] for row in cursor.fetchall()]


def _dated_ids(*, user, query: Query, after) -> list[int]:
    """Newest first: the ids of the page (and one more), by (sort_at, id)."""
    rows = _filtered(user=user, query=query)
    if connection.vendor == "postgresql":
        if query.texts:
            rows = rows.extra(where=["webmail_message.search_vector @@ to_tsquery('simple', %s)"],
                              params=[tsquery(query)])
    else:
        match = fts5_match(query, user_id=user.id)
        few = _fts5_ids(match, FEW_MATCHES + 1) if query.texts else None
        if few is not None and len(few) <= FEW_MATCHES:
            rows = rows.filter(id__in=few)
        elif query.texts:
            # many matches: walk the user's rows by date and ask FTS5 about each one by its rowid (without the
            # user_id word: the row is the user's, and that word's long list made each question 3x dearer)
            probe = "EXISTS (SELECT 1 FROM webmail_message_fts WHERE webmail_message_fts MATCH %s " \
                    "AND webmail_message_fts.rowid = webmail_message.id)"
            if query.positive:
                words = " AND ".join(_fts5_text(t) for t in query.positive)
                if query.negative:
                    words = f"({words}) NOT ({' OR '.join(_fts5_text(t) for t in query.negative)})"
                rows = rows.extra(where=[probe], params=[words])
            else:
                rows = rows.extra(where=["NOT " + probe], params=[" OR ".join(_fts5_text(t) for t in query.negative)])
    if after is not None:
        key, id_ = after
        rows = rows.filter(Q(sort_at__lte=key), Q(sort_at__lt=key) | Q(id__lt=id_))
    return list(rows.order_by("-sort_at", "-id").values_list("id", flat=True)[:PAGE_SIZE + 1])


def _ranked_ids(*, user, query: Query, after) -> list[tuple[int, float]]:
    """Best match first among the newest RANK_WINDOW matches: (id, rank) for the page and one more. The rank is
    ordered so that smaller is better (bm25 is; ts_rank, where higher is better, is negated)."""
    if connection.vendor == "postgresql":
        q = tsquery(query)
        rows = _filtered(user=user, query=query).extra(
            where=["webmail_message.search_vector @@ to_tsquery('simple', %s)"], params=[q],
            select={"search_rank": "-ts_rank(webmail_message.search_vector, to_tsquery('simple', %s))::float8"},
            select_params=[q])
        window = list(rows.order_by("-id").values_list("id", "search_rank")[:RANK_WINDOW])
    else:
        window = _fts5_ids(fts5_match(query, user_id=user.id), RANK_WINDOW, rank=True)
        if _filters(query):
            kept = set(_filtered(user=user, query=query).filter(id__in=[id_ for id_, _ in window])
                       .values_list("id", flat=True))
            window = [(id_, rank) for id_, rank in window if id_ in kept]
    ranked = sorted(((rank, id_) for id_, rank in window))
    if after is not None:
        ranked = [(rank, id_) for rank, id_ in ranked if (rank, id_) > after]
    return [(id_, rank) for rank, id_ in ranked[:PAGE_SIZE + 1]]


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
