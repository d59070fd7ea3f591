"""The sanitiser's entry points: nh3 sees markup only after html_measure has found it within every cap."""
import re
from html.parser import HTMLParser

import nh3

from .caps import HtmlLimits, HtmlTooComplex
from .measure import html_measure

# What html_to_text keeps of the markup, to lay the text out: blocks, line breaks, list items, links, cells.
_TEXT_BLOCKS = frozenset("address article aside blockquote center dd details div dl dt figcaption figure footer h1 h2 "
                         "h3 h4 h5 h6 header hr li main nav ol p pre section summary table tr ul".split())
_TEXT_TAGS = _TEXT_BLOCKS | {"a", "br", "td", "th"}
_SPACES = re.compile(r"[ \t\n\f\r]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def html_to_text(markup: str, *, limits: HtmlLimits | None = None) -> str:
    """A readable text of the markup: paragraphs and blocks as lines (a blank line between paragraphs), <br> as a
    line break, list items as "- ", table cells apart, links as "text <url>" (script and style bodies go with
    their tags). Raises HtmlTooComplex, before nh3 sees anything, when the markup is over a cap."""
    html_check(markup, limits=limits)
    kept = nh3.clean(markup, tags=set(_TEXT_TAGS), attributes={"a": {"href"}}, url_schemes={"http", "https", "mailto"},
                     url_relative="deny", link_rel=None)
    writer = _TextWriter()
    writer.feed(kept)  # nh3's output: well-formed, and read in one linear pass
    writer.close()
    return writer.text()


class _TextWriter(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.pre = 0
        self.links: list[tuple[str, int]] = []  # (href, where its text starts in out)

    def _break(self, lines: int = 1):
        if not self.out:
            return  # nothing written yet: no blank lines at the top
        tail = "".join(self.out[-3:]).rstrip(" ")
        have = len(tail) - len(tail.rstrip("\n"))
        if have < lines:
            self.out.append("\n" * (lines - have))

    def handle_starttag(self, tag, attrs):
        if tag == "br":
            self.out.append("\n")
        elif tag in ("p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "ul", "ol", "dl"):
            self._break(2)
        elif tag == "li":
            self._break(1)
            self.out.append("- ")
        elif tag in _TEXT_BLOCKS:
            self._break(1)
        elif tag in ("td", "th"):
            if self.out and not self.out[-1].endswith(("\n", " ")):
                self.out.append(" ")
        elif tag == "a":
            self.links.append((dict(attrs).get("href") or "", len(self.out)))
        if tag == "pre":
            self.pre += 1

    def handle_endtag(self, tag):
        if tag == "a" and self.links:
            href, start = self.links.pop()
            label = "".join(self.out[start:]).strip()
            shown = href[7:] if href.startswith("mailto:") else href
            if href and shown not in label:
                self.out.append(f" <{shown}>" if label else f"<{shown}>")
        elif tag in ("p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "ul", "ol", "dl"):
            self._break(2)
        elif tag in _TEXT_BLOCKS:
            self._break(1)
        if tag == "pre" and self.pre:
            self.pre -= 1

    def handle_data(self, data):
        if self.pre:
            self.out.append(data)
            return
        data = _SPACES.sub(" ", data)
        if not self.out or self.out[-1].endswith("\n"):
            data = data.lstrip(" ")
        if data:
            self.out.append(data)

    def text(self) -> str:
        lines = [line.rstrip() for line in "".join(self.out).split("\n")]
        return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def html_sanitize(markup: str, *, limits: HtmlLimits | None = None, **nh3_options) -> str:
    """``nh3.clean(markup, **nh3_options)`` for markup within the caps; HtmlTooComplex otherwise."""
    html_check(markup, limits=limits)
    return nh3.clean(markup, **nh3_options)


def html_check(markup: str, *, limits: HtmlLimits | None = None) -> None:
    reason = html_measure(markup, limits=limits or HtmlLimits.from_settings())
    if reason:
        raise HtmlTooComplex(reason)
