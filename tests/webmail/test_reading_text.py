"""The text part on the page: escaped, links made (bounded), quoted runs folded."""
from mailsite.webmail.reading.text import text_blocks, text_linkify


def test_urls_and_addresses_become_links_and_the_rest_is_escaped():
    html = text_linkify("See https://example.org/a?b=1&c=2, www.example.org and bob@example.org. <b>x</b>")
    assert html == ('See <a href="https://example.org/a?b=1&amp;c=2" target="_blank" rel="noopener noreferrer">'
                    'https://example.org/a?b=1&amp;c=2</a>, <a href="http://www.example.org" target="_blank" '
                    'rel="noopener noreferrer">www.example.org</a> and <a href="mailto:bob@example.org" '
                    'target="_blank" rel="noopener noreferrer">bob@example.org</a>. &lt;b&gt;x&lt;/b&gt;')


def test_a_url_cannot_break_out_of_its_link():  # Roundcube CVE-2020-35730 and kin
    html = text_linkify('http://remote.example/"><script>alert(1)</script> www.remote.example/?q="onmouseover=x')
    assert "<script" not in html and '"onmouseover' not in html and "&lt;script&gt;" in html
    assert 'href="http://remote.example/"' in html


def test_javascript_is_never_a_link():
    assert "<a" not in text_linkify("javascript:alert(1) data:text/html,x vbscript:x")


def test_parentheses_belong_to_a_url_only_when_balanced():
    html = text_linkify("(see https://en.example/wiki/Foo_(bar)) and (https://example.org/x)")
    assert 'href="https://en.example/wiki/Foo_(bar)"' in html and 'href="https://example.org/x"' in html


def test_quoted_runs_are_their_own_blocks():
    blocks = text_blocks("Hi\n> quoted 1\n>> quoted 2\nreply\n")
    assert [(b["quoted"], b["lines"]) for b in blocks] == [(False, 1), (True, 2), (False, 1)]
    assert str(blocks[1]["html"]) == "&gt; quoted 1\n&gt;&gt; quoted 2\n"


def test_linking_is_bounded(settings):
    settings.TEXT_LINKIFY_MAX_LINKS = 3
    settings.TEXT_LINKIFY_MAX_CHARS = 1000
    text = "https://example.org/ " * 10 + "x" * 2000 + " https://example.org/late"
    blocks = text_blocks(text)
    html = "".join(str(b["html"]) for b in blocks)
    assert html.count("<a ") == 3
    assert blocks[-1].get("unlinked") and "https://example.org/late" in html
