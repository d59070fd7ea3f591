"""The measuring pass: one regex scan of the markup's tokens, fed to the tree replay, stopped at the first cap
crossed."""
import re

from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext

from .caps import HtmlLimits
from .tree_replay import _TreeReplay

# One token: a start or end tag with its attributes (quoted values may hold ">"), or a comment, doctype,
# processing instruction or bogus comment, which the parser ends at the first ">" or later (so skipping to the
# first ">" never hides a tag from us). A tag without ">" runs to the end, as in the parser (which drops it).
_TOKEN = re.compile(
    r"""<(?:(/?)([A-Za-z][^\t\n\f\r />]*)((?:[^>"'=]+|=[\t\n\f\r ]*(?:"[^"]*"|'[^']*')|[="'])*)>?|[!?/][^>]*>?)"""
)
_QUOTED_VALUE = re.compile(r"""=[\t\n\f\r ]*(?:"[^"]*"|'[^']*')""")
_SEPARATORS = re.compile(r"[\t\n\f\r /]+")
# A "/" at the end of a tag is part of an unquoted attribute value (x=a/, x= /), not a self-closing mark.
_IN_UNQUOTED_VALUE = re.compile(r"=[\t\n\f\r ]*[^\t\n\f\r ]*$")


def html_measure(markup: str, *, limits: HtmlLimits) -> str | None:
    """None when the markup is within every cap, else the first cap it crosses, in words. Linear: one regex
    scan, and the replay stops as soon as the depth, attribute, formatting or element count is over."""
    if len(markup) > limits.max_bytes or len(markup.encode("utf-8", "surrogatepass")) > limits.max_bytes:
        return gettext("larger than %(size)s") % {"size": filesizeformat(limits.max_bytes)}
    return _replay(markup, _TreeReplay(limits))


def html_replay_figures(markup: str) -> tuple[int, int]:
    """The deepest nesting and the number of elements the replay counts, with no cap (for tests and bench/)."""
    unbounded = HtmlLimits(max_bytes=1 << 62, max_depth=1 << 62, max_attributes=1 << 62, max_elements=1 << 62,
                           max_formatting=1 << 62)
    tree = _TreeReplay(unbounded)
    _replay(markup, tree)
    return tree.max_depth, tree.elements


def _replay(markup: str, tree: _TreeReplay) -> str | None:
    limits = tree.limits
    end = 0
    for match in _TOKEN.finditer(markup):
        reason = tree.text() if match.start() > end else None
        end = match.end()
        if reason:
            return reason
        name = match.group(2)
        if name is None:
            continue  # comment, doctype, processing instruction
        name = name.lower()
        attributes = match.group(3) or ""
        if _attribute_count(attributes, limits.max_attributes) > limits.max_attributes:
            return gettext("a tag with more than %(limit)d attributes") % {"limit": limits.max_attributes}
        if match.group(1):
            reason = tree.end(name)
            if reason:
                return reason
            continue
        reason = tree.start(name, attributes, _self_closing(attributes))
        if reason:
            return reason
    if end < len(markup):
        return tree.text()
    return None


def _self_closing(attributes: str) -> bool:
    if not attributes.endswith("/"):
        return False
    return not _IN_UNQUOTED_VALUE.search(_QUOTED_VALUE.sub('="" ', attributes))


def _attribute_count(attributes: str, cap: int) -> int:
    """At least the number of attributes the parser reads from a tag's text (quoted values may hold spaces)."""
    if len(attributes) < 2 * cap:
        return 0  # every attribute takes at least two characters (a separator and a name)
    unquoted = _QUOTED_VALUE.sub('="" ', attributes)  # a new attribute may follow a closing quote directly
    return sum(1 for piece in _SEPARATORS.split(unquoted) if piece)
