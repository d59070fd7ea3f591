"""The sanitiser's entry points: markup over a cap never reaches nh3, and the caps are read from settings."""
import pytest

from spooler.services.html import HtmlTooComplex, html_measure, html_to_text
from spooler.services.html import sanitize
from tests.fixtures.costly_html import HOSTILE, LIMITS


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_markup_is_refused_before_nh3_sees_it(name, monkeypatch):
    seen = []
    monkeypatch.setattr(sanitize.nh3, "clean", lambda markup, **kwargs: seen.append(markup) or "")
    assert html_measure(HOSTILE[name], limits=LIMITS), f"{name} passed every cap"
    with pytest.raises(HtmlTooComplex) as refused:
        html_to_text(HOSTILE[name], limits=LIMITS)
    assert refused.value.reason
    assert seen == []


def test_the_settings_name_the_caps(settings):
    settings.HTML_MAX_DEPTH = 3
    with pytest.raises(HtmlTooComplex, match="3 elements deep"):
        html_to_text("<div><div><div><div>x")
    assert html_to_text("<div><div>x &amp; <script>y</script>z") == "x & z"
