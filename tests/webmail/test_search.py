"""Search: the index kept by the database's triggers as mail is stored, moved and deleted; the operators; keyset
pages; scoping; hostile queries; the page. Runs on the test database's vendor (SQLite by default; DATABASE_URL for
PostgreSQL)."""
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mailsite.mailboxes.models import Message
from mailsite.mailboxes.placement import Box
from mailsite.webmail import organize, search
from mailsite.webmail.search_query import parse
from spooler.services.inbound.store import message_store
from spooler.services.sql.messages import insert_messages, message_row

pytestmark = pytest.mark.django_db
START = datetime(2026, 1, 1, tzinfo=UTC)
HOSTILE = ['"', '"unbalanced', 'a"b"c"', "NEAR(a b", "NEAR(", "*", "a*", "^a", ":", "a:b", "subject:", "(", ")", "((a)",
           "a AND", "OR", "NOT a", "-", "--a", "'", "''a''", "a & b | !c", "a <-> b", "!!", "\\", "a\\'b", "\x00",
           "a\x00b", "{a b} : c", "col:x", "rowid:1", "-*", "from:*", "to:\"", "in:", "in:'x'", "before:2026-13-45",
           "after:9999-99-99", "is:", "has:", "é", "²", "\u202e", "x" * 200, "😀 mail", "a:b:c:d", "\"\"", "- -"]


def store(user, uid, *, subject="", sender="Ann <ann@example.test>", to="bob@example.test", cc="", body="",
          folder="", attachment=False):
    """A message stored by the poller's own path (parse, then the multi-row INSERT)."""
    account = user.mail_accounts.get()
    headers = f"From: {sender}\r\nTo: {to}\r\n" + (f"Cc: {cc}\r\n" if cc else "") + f"Subject: {subject}\r\n"
    if attachment:
        raw = (headers + "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
               f"Content-Type: text/plain\r\n\r\n{body}\r\n--b\r\nContent-Type: application/octet-stream\r\n"
               "Content-Disposition: attachment; filename=a.bin\r\n\r\nxyz\r\n--b--\r\n")
    else:
        raw = headers + f"\r\n{body}\r\n"
    return message_store(account=account, uid=uid, raw=raw.encode(), folder=folder)


def found(user, q, **kwargs):
    query = parse(q)
    assert not query.error, query.error
    return [m.id for m in search.search_page(user=user, query=query, **kwargs).rows]


def test_the_index_triggers_are_in_the_test_database():
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'webmail_message'")
            names = {row[0] for row in cursor.fetchall()}
            assert {"webmail_message_fts_insert", "webmail_message_fts_update", "webmail_message_fts_delete"} <= names
        else:
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = 'webmail_message'::regclass")
            names = {row[0] for row in cursor.fetchall()}
            assert {"webmail_message_search_insert", "webmail_message_search_update"} <= names


def test_words_in_subject_sender_recipients_and_body_are_found(alice):
    a = store(alice, "1", subject="Quarterly figures", body="see the attached numbers")
    b = store(alice, "2", subject="Lunch", sender="Zed Zimmer <zed@zimmer.test>", body="at noon")
    c = store(alice, "3", subject="Hi", to="carol@example.test", cc="dave@example.test", body="hello")
    assert found(alice, "quarterly") == [a.id]
    assert found(alice, "NUMBERS") == [a.id]
    assert found(alice, "zimmer") == [b.id]
    assert found(alice, "dave") == [c.id]
    assert found(alice, "carol@example.test") == [c.id]
    assert found(alice, "nothing-like-this") == []


def test_operators(alice):
    a = store(alice, "1", subject="Budget review", sender="Person Seven <person7@example.org>", body="budget numbers")
    b = store(alice, "2", subject="Travel", sender="Other <other@example.org>", body="the budget for travel",
              attachment=True)
    c = store(alice, "3", subject="Re: budget", to="person7@example.org", body="answer")
    assert found(alice, "from:person7") == [a.id]
    assert found(alice, "from:person7 budget") == [a.id]
    assert found(alice, 'from:"Person Seven"') == [a.id]
    assert found(alice, "to:person7") == [c.id]
    assert sorted(found(alice, "subject:budget")) == sorted([a.id, c.id])
    assert found(alice, "budget has:attachment") == [b.id]
    assert sorted(found(alice, "budget -has:attachment")) == sorted([a.id, c.id])
    assert sorted(found(alice, "budget -travel")) == sorted([a.id, c.id])
    assert sorted(found(alice, "-travel")) == sorted([a.id, c.id])
    assert found(alice, '"budget for travel"') == [b.id]
    assert found(alice, '"travel for budget"') == []
    organize.messages_act(user=alice, ids=[a.id], action="read")
    organize.messages_act(user=alice, ids=[c.id], action="star")
    assert sorted(found(alice, "budget is:unread")) == sorted([b.id, c.id])
    assert found(alice, "is:starred") == [c.id]
    assert found(alice, "budget -is:starred -is:unread") == [a.id]


def test_before_and_after(alice):
    account = alice.mail_accounts.get()
    rows = [message_row(account_id=account.id, user_id=alice.id, folder="INBOX", uid=f"d{i}", raw_compressed=b"",
                        size=10, subject=f"dated {i}", text="calendar", date=START + timedelta(days=i),
                        fetched_at=START + timedelta(days=i)) for i in range(5)]
    ids = insert_messages(rows)
    assert found(alice, "calendar after:2026-01-03") == [ids[4], ids[3], ids[2]]
    assert found(alice, "calendar before:2026-01-03") == [ids[1], ids[0]]
    assert found(alice, "after:2026-01-02 before:2026-01-04") == [ids[2], ids[1]]
    assert found(alice, "calendar -after:2026-01-02") == [ids[0]]


def test_moved_mail_is_found_in_its_new_box(alice):
    message = store(alice, "1", subject="Moving day", body="boxes everywhere")
    assert found(alice, "boxes in:inbox") == [message.id]
    organize.messages_delete(user=alice, ids=[message.id])  # to Trash
    assert found(alice, "boxes in:inbox") == []
    assert found(alice, "boxes in:trash") == [message.id]
    assert found(alice, "boxes") == [message.id]
    assert found(alice, "boxes -in:trash") == []
    organize.messages_restore(user=alice, ids=[message.id])
    assert found(alice, "boxes in:inbox") == [message.id]
    organize.messages_move(user=alice, ids=[message.id], box=Box.ARCHIVE)
    assert found(alice, "boxes in:archive") == [message.id]


def test_deleted_for_good_is_never_found(alice):
    message = store(alice, "1", subject="Secret plans", sender="Mallory <mallory@example.test>", body="the vault")
    keep = store(alice, "2", subject="Other plans", body="the garden")
    organize.messages_delete(user=alice, ids=[message.id])
    organize.messages_delete(user=alice, ids=[message.id])  # from Trash: for good, a tombstone stays
    assert Message.objects.get(id=message.id).box == Box.DELETED
    for q in ("secret", "mallory", "vault", "from:mallory", "in:deleted", "plans"):
        assert message.id not in found(alice, q), q
    assert found(alice, "plans") == [keep.id]
    # and the tombstone is not in the index (not merely filtered out)
    if connection.vendor == "sqlite":
        sql = "SELECT rowid FROM webmail_message_fts WHERE webmail_message_fts MATCH 'mallory'"
    else:
        sql = "SELECT id FROM webmail_message WHERE search_vector @@ to_tsquery('simple', 'mallory')"
    with connection.cursor() as cursor:
        cursor.execute(sql)
        assert cursor.fetchall() == []


def test_an_orm_edit_and_a_row_deleted_outright_keep_the_index_current(alice):
    message = store(alice, "1", subject="Old words", body="aardvark")
    Message.objects.filter(id=message.id).update(subject="New words", text="zebra")
    assert found(alice, "aardvark") == [] and found(alice, "old") == []
    assert found(alice, "zebra") == [message.id] and found(alice, "new") == [message.id]
    message.refresh_from_db()
    message.subject = "Third words"
    message.save()
    assert found(alice, "third") == [message.id] and found(alice, "new") == []
    Message.objects.filter(id=message.id).delete()
    assert found(alice, "zebra") == [] and found(alice, "third") == []


def test_a_star_or_a_move_does_not_rewrite_the_index(alice):
    """Only changes of the indexed columns (or into/out of "deleted") fire the index's update trigger."""
    message = store(alice, "1", subject="Stars", body="twinkle")
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM webmail_message_fts_data")
            before = cursor.fetchone()[0]
            organize.messages_act(user=alice, ids=[message.id], action="star")
            organize.messages_move(user=alice, ids=[message.id], box=Box.ARCHIVE)
            cursor.execute("SELECT count(*) FROM webmail_message_fts_data")
            assert cursor.fetchone()[0] == before
    else:  # (the UPDATE trigger's WHEN clause; the vector is the same either way)
        organize.messages_act(user=alice, ids=[message.id], action="star")
    assert found(alice, "twinkle is:starred") == [message.id]


def test_scoped_to_the_user(alice, bob):
    mine = store(alice, "1", subject="Shared word pumpkin")
    store(bob, "1", subject="Shared word pumpkin")
    assert found(alice, "pumpkin") == [mine.id]
    assert found(alice, "pumpkin", sort="relevance") == [mine.id]


def _bulk(user, n, text=lambda i: "common words here"):
    account = user.mail_accounts.get()
    rows = [message_row(account_id=account.id, user_id=user.id, folder="INBOX", uid=f"b{i}", raw_compressed=b"",
                        size=10, subject=f"Message {i}", sender=f"Sender {i % 3} <s{i % 3}@example.test>",
                        text=text(i), date=START + timedelta(minutes=i)) for i in range(n)]
    return insert_messages(rows)


@pytest.mark.parametrize("sort", ["date", "relevance"])
def test_keyset_pages_walk_every_result_once(alice, sort):
    ids = _bulk(alice, 123, text=lambda i: "common " * (1 + i % 5) + "words")
    seen, cursor, pages = [], None, 0
    while True:
        page = search.search_page(user=alice, query=parse("common"), sort=sort, cursor=cursor)
        assert len(page.rows) <= search.PAGE_SIZE
        seen += [m.id for m in page.rows]
        pages += 1
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert pages == 3 and len(seen) == len(set(seen)) == 123 and set(seen) == set(ids)
    if sort == "date":
        assert seen == list(reversed(ids))


def test_relevance_puts_the_better_match_first(alice):
    _bulk(alice, 10, text=lambda i: "filler text")
    weak = store(alice, "weak", subject="Notes", body="one mention of otter among many other words " * 3)
    strong = store(alice, "strong", subject="Otter otter", body="otter otter otter")
    assert found(alice, "otter", sort="relevance") == [strong.id, weak.id]


def test_a_page_is_a_few_queries_without_count_or_offset(alice):
    """(On SQLite, the first few matches from FTS5,) the page's ids in order, then its rows (the text is never
    carried through a sort)."""
    _bulk(alice, 200)
    for sort in ("date", "relevance"):
        first = search.search_page(user=alice, query=parse("common from:s1"), sort=sort)
        with CaptureQueriesContext(connection) as queries:
            search.search_page(user=alice, query=parse("common from:s1"), sort=sort, cursor=first.next_cursor)
        assert len(queries) <= 3
        for query in queries:
            sql = query["sql"].upper()
            assert "COUNT(" not in sql and "OFFSET" not in sql


@pytest.mark.parametrize("cursor", ["junk", "|", "nan|x", "1e999|1", "2026-13-01|5", "\x00|1", "-1.5|"])
def test_a_malformed_cursor_shows_the_first_page(alice, cursor):
    _bulk(alice, 3)
    for sort in ("date", "relevance"):
        page = search.search_page(user=alice, query=parse("common"), sort=sort, cursor=cursor)
        assert len(page.rows) <= 3


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_queries_never_reach_the_index_as_syntax(alice, text):
    store(alice, "1", subject="a b c near x", body="mail text")
    query = parse(text)
    if not query.error and not query.empty:
        for sort in ("date", "relevance"):
            search.search_page(user=alice, query=query, sort=sort)  # no OperationalError / ProgrammingError


def test_hostile_queries_through_the_page(client, alice):
    client.force_login(alice)
    store(alice, "1", subject="a b c", body="mail text")
    for text in HOSTILE + [" ".join(HOSTILE), "x" * 10_000, " ".join(f"w{i}" for i in range(1000))]:
        response = client.get(reverse("webmail:search"), {"q": text})
        assert response.status_code == 200, text


def test_too_long_and_too_many_terms_say_so(client, alice, settings):
    client.force_login(alice)
    response = client.get(reverse("webmail:search"), {"q": "x" * 10_000})
    assert b"The search is too long: at most 500 characters." in response.content
    response = client.get(reverse("webmail:search"), {"q": " ".join(f"w{i}" for i in range(1000))})
    assert b"too long" in response.content  # (1000 terms are over 500 characters too)
    settings.SEARCH_MAX_TERMS = 5
    response = client.get(reverse("webmail:search"), {"q": "a b c d e f"})
    assert b"The search has too many words: at most 5." in response.content


def test_the_page_shows_rows_the_query_and_highlights(client, alice):
    client.force_login(alice)
    message = store(alice, "1", subject="Weekly <b>report</b>",
                    body="Intro. " * 30 + "The <script>alert(1)</script> report is ready. " + "Tail. " * 30)
    organize.messages_move(user=alice, ids=[message.id], box=Box.ARCHIVE)
    response = client.get(reverse("webmail:search"), {"q": 'report "is ready"'})
    html = response.content.decode()
    assert f'data-message="{message.id}"' in html
    assert 'id="search-q" value="report &quot;is ready&quot;"' in html
    assert "<mark>report</mark>" in html and "<mark>ready</mark>" in html
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Weekly &lt;b&gt;report&lt;/b&gt;" in html
    assert '<span class="folder">Archive</span>' in html


def test_the_page_pages_with_the_query_kept(client, alice):
    client.force_login(alice)
    _bulk(alice, 60)
    response = client.get(reverse("webmail:search"), {"q": "common"})
    page = response.context["page"]
    assert len(page.rows) == 50 and page.next_cursor
    assert 'href="?q=common&amp;sort=date&amp;after=' in response.content.decode()
    response = client.get(reverse("webmail:search"), {"q": "common", "after": page.next_cursor})
    assert len(response.context["page"].rows) == 10


def test_every_page_has_the_search_box(client, alice):
    client.force_login(alice)
    for url in (reverse("webmail:inbox"), reverse("webmail:compose"), reverse("webmail:search")):
        assert b'<input type="search" name="q" id="search-q"' in client.get(url).content, url


def test_an_empty_search_runs_nothing(client, alice):
    client.force_login(alice)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("webmail:search"), {"q": "   "})
    assert response.status_code == 200 and response.context["page"] is None
    assert not any("webmail_message" in q["sql"] and "fts" in q["sql"] for q in queries)


def test_search_needs_login(client):
    response = client.get(reverse("webmail:search"), {"q": "x"})
    assert response.status_code == 302


def test_the_migration_fills_the_index_for_the_rows_there_and_reverses(alice):
    """0007_search backwards (index gone) and forwards again: the rows stored meanwhile are found; tombstones not."""
    import importlib

    migration = importlib.import_module("mailsite.mailboxes.migrations.0007_search")

    class Editor:  # what the migration's functions use of a schema editor
        def __init__(self):
            self.connection = connection

        def execute(self, sql, params=None):
            with connection.cursor() as cursor:
                if connection.vendor == "postgresql":  # (the test's inserts' deferred foreign key checks)
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute(sql)

    before = store(alice, "1", subject="Stored before the index", body="walrus")
    migration.reverse(None, Editor())
    gone = store(alice, "2", subject="Stored without an index", body="walrus narwhal")
    tomb = store(alice, "3", subject="Tombstone walrus", body="walrus")
    Message.objects.filter(id=tomb.id).update(box=Box.DELETED, text="")
    migration.forward(None, Editor())
    assert found(alice, "walrus") == [gone.id, before.id]
    assert found(alice, "narwhal") == [gone.id]
    organize.messages_act(user=alice, ids=[gone.id], action="star")
    assert found(alice, "narwhal is:starred") == [gone.id]


def test_a_number_finds_text_not_the_users_own_id(alice):
    """The index holds user_id as a word (to scope every MATCH); a search for that number must not find it."""
    plain = store(alice, "1", subject="Nothing numeric", body="words only")
    numbered = store(alice, "2", subject=f"Order {alice.id}", body="a number")
    assert found(alice, str(alice.id)) == [numbered.id]
    assert plain.id not in found(alice, str(alice.id), sort="relevance")


@pytest.mark.parametrize("sort", ["date", "relevance"])
def test_many_matches_and_few_take_their_own_plans_and_agree(alice, sort, monkeypatch):
    ids = _bulk(alice, 80, text=lambda i: "common words" + (" rare" if i % 10 == 0 else ""))
    expected = {q: set(found(alice, q, sort=sort)) for q in ("common", "rare", "common -rare", "-rare")}
    monkeypatch.setattr(search, "FEW_MATCHES", 3)  # every query now has "many" (the walk by date)
    for q, ids_found in expected.items():
        assert set(found(alice, q, sort=sort)) == ids_found, q
    assert len(expected["rare"]) == 8 and len(expected["common -rare"]) == 50
    assert set(ids) >= expected["common"]


def test_a_huge_body_is_stored_and_indexed_up_to_the_cap(alice):
    """A tsvector is at most 1 MB: the trigger indexes the first 100,000 characters, and the store never fails."""
    body = " ".join(f"w{i}" for i in range(300_000))  # ~2.3 MB of distinct words
    message = store(alice, "big", subject="Huge", body=body)
    assert message is not None
    assert found(alice, "w1") == [message.id]
    assert found(alice, "w299999") == []
