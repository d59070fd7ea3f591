"""Benchmark: the search page at 100,000 stored messages, on SQLite (FTS5) and on PostgreSQL (tsvector + GIN).

One user has BENCH_LARGE messages (default 100,000), made as bench/web.py makes them (the poller's multi-row
insert, so the index is filled by its triggers as in production: a few KB of text from a vocabulary of 60 words,
40 senders, one message in 500 with the rare word). A second user has 1,000 messages with the same words, so that
scoping to the user is part of every figure. Each query is asked for BENCH_REQUESTS times through Django's test
client, logged in; the figures are the median and the 95th percentile of the request times:

- a rare word (about 1 message in 500), a from: query (1 sender in 40) with and without a word, and a common word
  (in nearly every message): newest first, and by best match;
- the second page of the common word (by the keyset cursor of the first).

Target: p95 <= 300 ms at 100k. BENCH_DB=sqlite or postgres for one only (a SQLite file in a temporary directory;
a throwaway PostgreSQL database from BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres).

    .venv/bin/python bench/web_search.py        BENCH_REQUESTS=20 by default
"""
import os
import pathlib
import shutil
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LARGE = int(os.environ.get("BENCH_LARGE", 100_000))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", 20))
os.environ.setdefault("BENCH_REQUESTS", str(REQUESTS))

from bench import web  # noqa: E402  (configure, make_mailbox, timed: the same mailbox as bench/web.py)

COMMON = "budget"
QUERIES = [
    ("rare word", {"q": web.RARE}),
    ("from:", {"q": "from:person7"}),
    ("from: and a word", {"q": f"from:person7 {COMMON}"}),
    ("common word", {"q": COMMON}),
    ("common word, best match", {"q": COMMON, "sort": "relevance"}),
    ("rare word, best match", {"q": web.RARE, "sort": "relevance"}),
    ("common word and is:unread in:inbox", {"q": f"{COMMON} is:unread in:inbox"}),
]


def _next_cursor(content: bytes) -> str:
    """The "Next" link's cursor on a results page."""
    import html
    import re
    from urllib.parse import parse_qs, urlsplit

    link = re.search(rb'href="([^"]*)" rel="next"', content).group(1).decode()
    return parse_qs(urlsplit(html.unescape(link)).query)["after"][0]


def child(vendor_url):
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="bench-search-"))
    drop = None
    try:
        if vendor_url == "sqlite":
            database_url = f"sqlite:///{tmp / 'search.sqlite3'}"
        else:
            from bench.ingest import create_database

            database_url, drop = create_database(vendor_url)
        web.configure(database_url, tmp)
        from django.contrib.auth import get_user_model
        from django.core.management import call_command
        from django.db import connection
        from django.test import Client
        from django.urls import reverse

        call_command("migrate", verbosity=0)
        made = time.perf_counter()
        other = get_user_model().objects.create_user(username="other")
        web.make_mailbox(other, 1000, 1)
        user = get_user_model().objects.create_user(username="large")
        web.make_mailbox(user, LARGE, 2)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        print(f"database: {connection.vendor}; {LARGE:,} messages (and 1,000 of another user) made and indexed in "
              f"{time.perf_counter() - made:.0f} s; {web.REQUESTS} requests per figure", flush=True)
        client = Client()
        client.force_login(user)
        url = reverse("webmail:search")
        worst = 0.0
        for name, params in QUERIES:
            response = client.get(url, params)
            rows = response.content.count(b"data-message=")
            p50, p95 = web.timed(client, url, params)
            worst = max(worst, p95)
            print(f"search {name} ({params['q']!r}, {rows} rows on page 1): {p50:.1f} ms  (p95 {p95:.1f} ms)",
                  flush=True)
        cursor = _next_cursor(client.get(url, {"q": COMMON}).content)
        p50, p95 = web.timed(client, url, {"q": COMMON, "after": cursor})
        worst = max(worst, p95)
        print(f"search common word, page 2 by keyset: {p50:.1f} ms  (p95 {p95:.1f} ms)")
        print(f"search p95 at {LARGE // 1000}k, worst: {worst:.1f} ms  "
              f"(target <= 300 ms: {'met' if worst <= 300 else 'MISSED'})")
    finally:
        if drop:
            drop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(web.main(__file__, child))
