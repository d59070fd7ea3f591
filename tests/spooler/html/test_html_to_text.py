"""html_to_text keeps the layout a reader needs: paragraphs, line breaks, list items, links as "text <url>"."""
import pytest

from spooler.services.html import HtmlLimits, HtmlTooComplex, html_to_text


def test_paragraphs_lists_and_links_stay_readable():
    text = html_to_text('<h1>Weekly deals</h1><p>See the <a href="https://shop.example/deal">deal</a> and '
                        '<a href="mailto:news@example.org">write</a> here.</p><ul><li>One</li><li>Two</li></ul>'
                        '<p>line 1<br>line 2</p>')
    assert text == ("Weekly deals\n\nSee the deal <https://shop.example/deal> and write <news@example.org> here."
                    "\n\n- One\n- Two\n\nline 1\nline 2")


def test_a_link_whose_text_is_its_address_is_not_repeated():
    assert html_to_text('<a href="https://example.org/">https://example.org/</a>') == "https://example.org/"


def test_hostile_parts_leave_no_text_and_no_url():
    text = html_to_text('<p>Hi</p><script>steal()</script><style>p{}</style><a href="javascript:alert(1)">x</a>')
    assert text == "Hi\n\nx"


def test_cells_are_apart_and_pre_keeps_its_spaces():
    assert html_to_text("<table><tr><td>a</td><td>b</td></tr></table><pre>  x\n   y</pre>") == "a b\n\n  x\n   y"


def test_the_same_caps_apply():
    limits = HtmlLimits(max_bytes=10_000, max_depth=3, max_attributes=5, max_elements=100, max_formatting=5)
    with pytest.raises(HtmlTooComplex):
        html_to_text("<ul>" * 10 + "<li>x", limits=limits)
