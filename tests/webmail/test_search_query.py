"""The search box's language (pure: no database)."""
from datetime import date

import pytest

from mailsite.webmail import search
from mailsite.webmail.search_query import MAX_WORD_CHARS, Place, Text, parse, words


def test_words_and_phrases():
    query = parse('Hello "big  World" -spam -"junk mail"')
    assert query.texts == [Text(("hello",)), Text(("big", "world")), Text(("spam",), negated=True),
                           Text(("junk", "mail"), negated=True)]
    assert [t.words for t in query.positive] == [("hello",), ("big", "world")]
    assert [t.words for t in query.negative] == [("spam",), ("junk", "mail")]


def test_field_operators():
    query = parse('from:bob to:"Ann Lee" subject:Budget -from:eve')
    assert query.texts == [Text(("bob",), "sender"), Text(("ann", "lee"), "recipients"), Text(("budget",), "subject"),
                           Text(("eve",), "sender", negated=True)]


def test_an_address_is_one_phrase_of_its_words():
    assert parse("from:person7@example.org").texts == [Text(("person7", "example", "org"), "sender")]
    assert parse("carol@example.test").texts == [Text(("carol", "example", "test"))]


def test_flags():
    query = parse("has:attachment is:unread is:starred")
    assert (query.has_attachment, query.unread, query.starred) == (True, True, True)
    query = parse("-has:attachments is:read is:unstarred")
    assert (query.has_attachment, query.unread, query.starred) == (False, False, False)
    assert parse("-is:unread").unread is False and parse("-is:starred").starred is False
    assert parse("IS:UNREAD").unread is True


def test_places():
    assert parse("in:trash in:Work -in:spam").places == [Place("trash"), Place("folder", "Work"),
                                                       Place("spam", negated=True)]
    assert parse("in:anywhere").places == [] and parse("in:anywhere").empty  # (nothing to look for)
    assert parse("in:INBOX").places == [Place("inbox")]


def test_dates():
    query = parse("after:2026-01-02 before:2026/02/03")
    assert (query.after, query.before) == (date(2026, 1, 2), date(2026, 2, 3))
    query = parse("-before:2026-01-02 -after:2026-03-04")
    assert (query.after, query.before) == (date(2026, 1, 2), date(2026, 3, 4))
    query = parse("after:2026-01-01 after:2026-05-01 before:2026-09-01 before:2026-07-01")
    assert (query.after, query.before) == (date(2026, 5, 1), date(2026, 7, 1))


@pytest.mark.parametrize("text", ["before:2026-13-01", "after:yesterday", "before:2026-02-30", "after:"])
def test_a_bad_date_is_plain_text(text):
    query = parse(text)
    assert query.after is None and query.before is None
    assert [w for t in query.texts for w in t.words] == list(words(text))


@pytest.mark.parametrize("text", ["http://example.org/x", "re:hello", "foo:bar", "has:kittens", "is:happy", "from:",
                                  "subject:..."])
def test_anything_else_is_plain_text(text):
    query = parse(text)
    assert query.places == [] and query.has_attachment is None and query.unread is None
    assert [w for t in query.texts for w in t.words] == list(words(text))


def test_unbalanced_quotes_take_the_rest():
    assert parse('say "hello world').texts == [Text(("say",)), Text(("hello", "world"))]
    assert parse('"').texts == [] and parse('"').empty
    assert parse('a"b"c').texts == [Text(("a",)), Text(("b",)), Text(("c",))]


@pytest.mark.parametrize("text", ["", "   ", "-", '""', "\x00\x00", "* ^ : ( ) !", "- -", "in:anywhere"])
def test_nothing_to_look_for_is_empty(text):
    assert parse(text).empty and not parse(text).error


def test_control_characters_are_spaces():
    query = parse("a\x00b\r\nc\u2028d")
    assert query.text == "a b  c d" and [t.words for t in query.texts] == [("a",), ("b",), ("c",), ("d",)]


def test_limits():
    assert parse("x" * 501).error == "The search is too long: at most 500 characters."
    assert parse("x" * 10_000, max_chars=10_000 + 1).error.startswith("A word in the search is too long")
    assert not parse("x" * MAX_WORD_CHARS).error
    many = " ".join(f"w{i}" for i in range(1000))
    assert parse(many, max_chars=100_000).error == "The search has too many words: at most 30."
    assert parse("a b c d", max_terms=3).error == "The search has too many words: at most 3."
    assert parse("a.b.c.d", max_terms=3).error  # (words, not only terms)
    assert not parse(" ".join("abcdefghijklmnopqrstuvwxyz"[:30])).error
    assert parse("x" * 10_000).text == "x" * 500  # (shown back cut)


HOSTILE = ['"', 'a"b', "NEAR(a b", "*", "^a", ":", "a:b", "(", "))", "a AND OR NOT", "'", "a & b | !c", "a <-> b",
           "\\", "\x00", "{a b} : c", "col:x", "-*", "\"\"\"", "é", "😀", "a'b\"c\\d"]


@pytest.mark.parametrize("text", HOSTILE)
def test_no_syntax_reaches_the_index(text):
    """What goes to FTS5 MATCH and to_tsquery is quoted words of letters and digits, whatever was typed."""
    query = parse(text)
    for t in query.texts:
        for w in t.words:
            assert w.isalnum() and w == w.lower()
    match = search.fts5_match(query, user_id=7)
    assert "NEAR" not in match and "*" not in match and "^" not in match and match.startswith('user_id : "7"')
    tsq = search.tsquery(query)
    assert not set(tsq) & set("|\\*")


def test_match_and_tsquery_strings():
    query = parse('budget "big plan" from:bob to:ann subject:x -junk')
    text = "{subject sender to cc text}"
    assert search.fts5_match(query, user_id=42) == (
        f'(user_id : "42" AND {text} : "budget" AND {text} : "big plan" AND sender : "bob" AND {{to cc}} : "ann" '
        f'AND subject : "x") NOT ({text} : "junk")')
    assert search.tsquery(query) == ("('budget') & ('big' <-> 'plan') & ('bob':B) & ('ann':C) & ('x':A) "
                                      "& !('junk')")


def test_snippet_escapes_and_marks():
    html = search.snippet("Intro " * 20 + "the <b>Report</b> & more " + "tail " * 40, ["report"])
    assert html.startswith("…") and html.endswith("…")
    assert "&lt;b&gt;<mark>Report</mark>&lt;/b&gt; &amp; more" in html
    assert search.snippet("reporting", ["report"]) == "reporting"  # (whole words only)
    assert search.snippet("<i>", []) == "<i>"[:180]  # no words: plain text, escaped by the template
