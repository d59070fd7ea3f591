"""The measuring pass: markup within the caps passes, each cap refuses with its own reason, and the replay's work
is linear in the markup. Times and memory are in bench/html_guard.py; nothing here depends on the machine's
speed."""
import pytest

from spooler.services.html import HtmlLimits, html_measure, html_replay_figures
from tests.fixtures.costly_html import LIMITS, ORDINARY


@pytest.mark.parametrize("name", ORDINARY)
def test_ordinary_markup_passes(name):
    assert html_measure(ORDINARY[name], limits=LIMITS) is None


def test_each_cap_has_its_own_reason():
    small = HtmlLimits(max_bytes=1000, max_depth=10, max_attributes=5, max_elements=50, max_formatting=4)
    assert "bytes" in html_measure("x" * 1001, limits=small)
    assert "bytes" in html_measure("é" * 501, limits=small)  # UTF-8 bytes, not characters
    assert "deep" in html_measure("<div>" * 11, limits=small)
    assert html_measure("<div>" * 10, limits=small) is None
    assert "attributes" in html_measure("<a " + " ".join("abcdef") + ">", limits=small)
    assert html_measure("<a " + " ".join("abcde") + ">", limits=small) is None
    assert "elements" in html_measure("<br>" * 51, limits=small)
    assert "formatting" in html_measure("<p>" + "".join(f"<b id={i}></p><p>" for i in range(5)), limits=small)


def test_the_replay_is_linear_in_work():
    """Counted, not timed: the replay creates as many elements for 8n tokens as 8 times n (plus a little)."""
    for unit in ("<p>x", "<li>x", "<div>x</div>", "<b><p>x</b>y</p>", '<svg><path d="0"/></svg>'):
        small, large = html_replay_figures(unit * 1000), html_replay_figures(unit * 8000)
        assert large[1] <= 8 * small[1] + 8, unit
        assert large[0] <= small[0] + 2, unit
