"""The sanitiser's entry points: nh3 sees markup only after html_measure has found it within every cap."""
import html

import nh3

from .caps import HtmlLimits, HtmlTooComplex
from .measure import html_measure


def html_to_text(markup: str, *, limits: HtmlLimits | None = None) -> str:
    """The text nh3 leaves when it strips every tag (script and style bodies go with their tags).
    Raises HtmlTooComplex, before nh3 sees anything, when the markup is over a cap."""
    html_check(markup, limits=limits)
    return html.unescape(nh3.clean(markup, tags=set(), attributes={})).strip()


def html_sanitize(markup: str, *, limits: HtmlLimits | None = None, **nh3_options) -> str:
    """``nh3.clean(markup, **nh3_options)`` for markup within the caps; HtmlTooComplex otherwise."""
    html_check(markup, limits=limits)
    return nh3.clean(markup, **nh3_options)


def html_check(markup: str, *, limits: HtmlLimits | None = None) -> None:
    reason = html_measure(markup, limits=limits or HtmlLimits.from_settings())
    if reason:
        raise HtmlTooComplex(reason)

