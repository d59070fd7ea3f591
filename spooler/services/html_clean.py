"""The one way HTML from mail reaches a sanitiser: measured first, in one linear pass, against named caps.

nh3 (html5ever, in Rust) is far worse than linear on some markup that is cheap to send, and it holds the GIL
and Python's signals while it runs, so a task time limit does not stop it. Measured on our 2-core machine:

- nested blocks: 16,000 nested ``<div>`` (176 kB) take 1.7 s, 80,000 (400 kB) 85 s (the tree builder walks
  the stack of open elements for each tag);
- unclosed formatting tags with distinct attributes (``<b id=1><b id=2>…``): 16,000 take 9 s (each one is
  compared with every entry of the list of active formatting elements);
- many attributes on one tag: 160,000 take 23 s (each is checked against those before it for duplicates);
- formatting tags left open across blocks are re-created ("reconstructed") before each later text: 100 of
  them and 16,000 short ``<div>``s (193 kB) built 1.6 million elements, 0.7 s and 400 MB.

``html_measure`` replays the HTML tree builder's stack as far as these costs depend on it (implied end tags of
p, li, dd/dt, option, table cells and rows, headings; the active formatting list with its markers and the
"Noah's Ark" limit of three; self-closing only in SVG/MathML, and breaking out of it) and stops at the first
cap it crosses. Where it cannot be exact it errs on the side of counting more than the parser builds (a test
checks this against the tree nh3 itself builds), so markup that passes is bounded in depth, attributes, active formatting
elements and elements created, and nh3's work on it is linear in its size. Markup over a cap is not parsed:
the caller shows the message's text part, or a "too complex to show" note, and keeps the raw message.
"""
import bisect
import dataclasses
import html
import re

import nh3
from django.conf import settings


@dataclasses.dataclass(frozen=True)
class HtmlLimits:
    max_bytes: int  # UTF-8 size, checked before anything else
    max_depth: int  # elements open at once
    max_attributes: int  # on one tag
    max_elements: int  # elements the parser creates, re-created formatting elements included
    max_formatting: int  # entries of the active formatting list

    @classmethod
    def from_settings(cls) -> "HtmlLimits":
        return cls(
            max_bytes=settings.HTML_MAX_BYTES,
            max_depth=settings.HTML_MAX_DEPTH,
            max_attributes=settings.HTML_MAX_ATTRIBUTES,
            max_elements=settings.HTML_MAX_ELEMENTS,
            max_formatting=settings.HTML_MAX_FORMATTING,
        )


class HtmlTooComplex(ValueError):
    """The markup is over a cap; ``reason`` says which, in words a reader can be shown."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


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


# --- the measuring pass -----------------------------------------------------------------------------------

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

_VOID = frozenset("area base basefont bgsound br col embed frame hr image img input keygen link meta param "
                  "source track wbr".split())
_FORMATTING = frozenset("a b big code em font i nobr s small strike strong tt u".split())
# Elements that put a marker on the active formatting list: formatting elements do not leak out of them.
_MARKERS = frozenset("applet caption marquee object td th template".split())
# Inside these, content is HTML again (SVG's title and desc, MathML's text integration points).
_INTEGRATION_POINTS = frozenset("foreignobject desc title mi mo mn ms mtext annotation-xml".split())
# ... each in its own namespace only: SVG's foreignObject, desc and title; MathML's others.
_POINTS_OF = {"svg": frozenset(("foreignobject", "desc", "title")),
              "math": frozenset("mi mo mn ms mtext annotation-xml".split())}
# Boundaries of "has an element in scope", SVG/MathML ones included (button scope adds button, list item scope
# ol and ul). Both ways matter: a boundary too many keeps elements open that the parser closes (fewer
# elements re-created later), one too few closes what the parser keeps open.
# html5ever reads a select's content by the body's rules, with the select as a boundary of scope.
_SCOPE = frozenset("applet caption html table td th marquee object template select".split()) | _INTEGRATION_POINTS
# The spec's "special" elements other than address, div and p: an open li/dd/dt behind one of these is not
# closed by the next li/dd/dt.
_SPECIAL = frozenset(
    "applet area article aside base basefont bgsound blockquote body br button caption center col colgroup dd "
    "details dir dl dt embed fieldset figcaption figure footer form frame frameset h1 h2 h3 h4 h5 h6 head header "
    "hgroup hr html iframe img input keygen li link listing main marquee menu meta nav noembed noframes noscript "
    "object ol param plaintext pre script search section select source style summary table tbody td template "
    "textarea tfoot th thead title tr track ul wbr xmp".split()
) | _INTEGRATION_POINTS
_ALL_SPECIAL = _SPECIAL | {"address", "div", "p"}
# Start tags that close an open p (in button scope) before they open.
_CLOSES_P = frozenset(
    "address article aside blockquote center details dialog dir div dl fieldset figcaption figure footer form h1 "
    "h2 h3 h4 h5 h6 header hgroup hr listing main menu nav ol p plaintext pre search section summary ul xmp dd "
    "dt li table".split()  # table: nh3 parses without quirks
)
# Start tags the parser inserts without first re-creating open formatting elements (it does so for text, inline
# and void elements, xmp and button). Re-creating before one of these would be too early: the copies would stay
# outside the block when it closes, and be counted once instead of each time.
_NO_RECONSTRUCT = (_CLOSES_P - {"xmp"}) | frozenset(
    "table hr param source track textarea iframe noembed noscript rb rtc rp rt caption col colgroup frame head "
    "tbody td tfoot th thead tr frameset base basefont bgsound link meta noframes script style template "
    "title".split()
)
# Ignored in body, outside a table.
_TABLE_PARTS = frozenset("caption col colgroup tbody td tfoot th thead tr".split())
_HEADINGS = frozenset("h1 h2 h3 h4 h5 h6".split())
# Start tags that leave SVG/MathML content (the parser pops foreign elements first); font only with color, face
# or size.
_BREAKOUT = frozenset(
    "b big blockquote body br center code dd div dl dt em embed h1 h2 h3 h4 h5 h6 head hr i img li listing menu "
    "meta nobr ol p pre ruby s small span strong strike sub sup table tt u ul var font".split()
)
_FONT_BREAKOUT = re.compile(r"(?:^|[\t\n\f\r /])(?:color|face|size)(?:[\t\n\f\r /=]|$)", re.I)
_FOREIGN_ROOTS = frozenset(("svg", "math"))
# There is one html, head and body: their start tags add attributes, their end tags pop nothing ("after body"
# goes back to "in body"); </form> takes the form out of the middle of the stack, leaving what is above it open.
_NOT_PUSHED = frozenset(("html", "head", "body"))
_END_POPS_NOTHING = frozenset(("html", "head", "body", "form"))


_GHOST = "#removed"  # the place of an element taken out of the middle of the stack (it counts for no depth)

# The groups the replay asks "where is the innermost open one?" of; each keeps its own stack of indexes.
_GROUPS = {
    "scope": _SCOPE,
    "scope_outside_select": _SCOPE - {"select"},
    "button_scope": _SCOPE | {"button"},
    "list_scope": _SCOPE | {"ol", "ul"},
    "special": _ALL_SPECIAL,
    "li_barrier": _SPECIAL - {"li"},
    "dd_barrier": _SPECIAL - {"dd", "dt"},
    "table": frozenset(("table", "template")),
    "template": frozenset(("template",)),
    "headings": _HEADINGS,
    "cell": frozenset(("td", "th")),
    "section": frozenset(("tbody", "thead", "tfoot")),
    "dd_dt": frozenset(("dd", "dt")),
}
_GROUPS_OF = {}
for _group, _names in _GROUPS.items():
    for _name in _names:
        _GROUPS_OF.setdefault(_name, []).append(_group)
_GROUPS_OF = {name: tuple(groups) for name, groups in _GROUPS_OF.items()}
# The same names as HTML elements (an <mi> outside MathML) are no boundary; HTML's title is still special.
_HTML_GROUPS_OF = {name: ("special", "li_barrier", "dd_barrier") if name == "title" else ()
                   for name in _INTEGRATION_POINTS}


@dataclasses.dataclass
class _Entry:
    """An element on the active formatting list."""

    key: str  # name and attributes, as Noah's Ark compares them
    name: str
    on_stack: bool = True
    alive: bool = True
    index: int = -1  # its place on the stack while on_stack


class _TreeReplay:
    """The parser's stack of open elements and list of active formatting elements, as far as the caps need."""

    def __init__(self, limits: HtmlLimits):
        self.limits = limits
        self.stack: list[tuple] = []  # (name, namespace: "svg", "math" or "" for HTML, formatting entry, groups)
        self.where: dict[str, list[int]] = {}  # name -> its indexes in the stack, innermost last
        self.groups: dict[str, list[int]] = {group: [] for group in _GROUPS}  # likewise per group
        self.active: list[_Entry | None] = []  # None is a marker
        self.ark: list[dict[str, int]] = [{}]  # per marker level: live entries per key
        self.dangling: list[_Entry] = []  # on the active list, popped off the stack: re-created at next text
        self.formatting = 0  # live entries on the active list
        self.dead = 0  # dead entries still on it
        self.elements = 0
        self.max_depth = 0
        self.ghosts = 0  # _GHOST places on the stack

    # -- the stack

    def push(self, name: str, foreign: str, entry: _Entry | None = None) -> str | None:
        if foreign:  # an SVG/MathML element is in no group, unless it is an integration point there
            groups = _GROUPS_OF.get(name, ()) if name in _POINTS_OF[foreign] else ()
        else:  # an HTML element named like an integration point is none
            groups = _HTML_GROUPS_OF[name] if name in _HTML_GROUPS_OF else _GROUPS_OF.get(name, ())
        self.stack.append((name, foreign, entry, groups))
        index = len(self.stack) - 1
        self.where.setdefault(name, []).append(index)
        for group in groups:
            self.groups[group].append(index)
        if entry is not None:
            entry.index = index
        depth = len(self.stack) - self.ghosts
        self.max_depth = max(self.max_depth, depth)
        if depth > self.limits.max_depth:
            return f"nested more than {self.limits.max_depth} elements deep"
        return self.count(1)

    def leaf(self) -> str | None:
        """A void or self-closed element: created one level below the current node, never open."""
        self.max_depth = max(self.max_depth, len(self.stack) - self.ghosts + 1)
        return self.count(1)

    def count(self, created: int) -> str | None:
        self.elements += created
        if self.elements > self.limits.max_elements:
            return f"more than {self.limits.max_elements} elements"
        return None

    def pop_to(self, index: int) -> None:
        """Pop the elements at ``index`` and above."""
        while len(self.stack) > index:
            name, namespace, entry, groups = self.stack.pop()
            if name == _GHOST:
                self.ghosts -= 1
                continue
            self.where[name].pop()
            for group in groups:
                self.groups[group].pop()
            if entry is not None and entry.alive:
                entry.on_stack = False
                self.dangling.append(entry)
            if name in _MARKERS and not namespace:  # a MathML <td> put no marker
                self.clear_to_marker()

    def last(self, name: str) -> int:
        found = self.where.get(name)
        return found[-1] if found else -1

    def last_in(self, group: str) -> int:
        found = self.groups[group]
        return found[-1] if found else -1

    def in_foreign(self) -> str:
        """The namespace of the current node when it is SVG or MathML and not an integration point, else ""."""
        if not self.stack:
            return ""
        name, namespace = self.stack[-1][:2]
        return namespace if namespace and name not in _POINTS_OF[namespace] else ""

    # -- the active formatting list

    def add_formatting(self, name: str, attributes: str) -> _Entry | str:
        # The parser compares names and values, in any order; the exact text can only tell more of them apart.
        key = name + " " + attributes.strip()
        counts = self.ark[-1]
        if counts.get(key, 0) >= 3:
            # Noah's Ark: the earliest of three identical entries since the last marker leaves the list.
            earliest = None
            for entry in reversed(self.active):
                if entry is None:
                    break
                if entry.alive and entry.key == key:
                    earliest = entry
            if earliest is not None:
                self.kill(earliest)
        entry = _Entry(key=key, name=name)
        self.active.append(entry)
        counts[key] = counts.get(key, 0) + 1
        self.formatting += 1
        if self.formatting > self.limits.max_formatting:
            return f"more than {self.limits.max_formatting} formatting elements left open"
        return entry

    def kill(self, entry: _Entry) -> None:
        """Take an entry after the last marker off the list (it stays there, dead, until compacted)."""
        entry.alive = False
        self.formatting -= 1
        counts = self.ark[-1]
        counts[entry.key] = counts.get(entry.key, 1) - 1
        self.dead += 1
        while self.active and self.active[-1] is not None and not self.active[-1].alive:
            self.active.pop()
            self.dead -= 1
        if self.dead > 2 * self.formatting + 16:  # keep every scan of the list short
            self.active = [entry for entry in self.active if entry is None or entry.alive]
            self.dead = 0

    def add_marker(self) -> None:
        self.active.append(None)
        self.ark.append({})

    def clear_to_marker(self) -> None:
        while self.active:
            entry = self.active.pop()
            if entry is None:
                break
            if entry.alive:
                entry.alive = False
                self.formatting -= 1
            else:
                self.dead -= 1
        if len(self.ark) > 1:
            self.ark.pop()
        else:
            self.ark[0] = {}

    def reconstruct(self) -> str | None:
        """Before text and most start tags, formatting elements that are on the list but off the stack are created
        again (all of them: the parser re-creates those after the last one still open, never more)."""
        if not self.dangling:
            return None
        waiting, self.dangling = self.dangling, []
        for entry in waiting:
            if entry.alive and not entry.on_stack:
                entry.on_stack = True
                reason = self.push(entry.name, "", entry)
                if reason:
                    return reason
        return None

    # -- tokens

    def text(self) -> str | None:
        return self.reconstruct()

    def start(self, name: str, attributes: str, self_closing: bool) -> str | None:
        if self.in_foreign() and name in _BREAKOUT and (name != "font" or _FONT_BREAKOUT.search(attributes)):
            while self.in_foreign():  # the parser pops the SVG/MathML elements, then reads the tag as HTML
                self.pop_to(len(self.stack) - 1)
        if name in _NOT_PUSHED and not self.in_foreign():
            return None
        foreign = self.in_foreign()
        if not foreign and name in _FOREIGN_ROOTS:
            foreign = name
            reason = self.reconstruct()  # from HTML, <svg> and <math> come as inline elements do
            if reason:
                return reason
        if foreign:
            # SVG/MathML: "/>" closes; nothing of HTML's implied end tags applies.
            return self.leaf() if self_closing else self.push(name, foreign)
        if name in _TABLE_PARTS and self.last_in("table") < 0:
            return None  # ignored outside a table
        if name in ("a", "nobr"):
            # An <a> while one is on the active list (a <nobr> while one is open) first closes it as </a> would.
            if name == "nobr" or self.formatting_entry("a") is not None:
                reason = self.reconstruct() if name == "nobr" else None
                entry = self.formatting_entry(name)
                if entry is not None and (name == "a" or entry.on_stack):
                    reason = reason or self.adoption_agency(entry) or self.leaf()
                if reason:
                    return reason
        if name == "select":
            select = self.last("select")
            if select >= 0 and select >= self.last_in("scope_outside_select"):
                self.pop_to(select)  # a select in a select closes it, and is dropped
                return None
        self.implied_end_tags(name)
        if name in ("tr", "td", "th") or name == "col" and self.last("colgroup") < self.last_in("table"):
            reason = self.implied_table_parents(name)
            if reason:
                return reason
        if name not in _NO_RECONSTRUCT:
            reason = self.reconstruct()
            if reason:
                return reason
        if name in _VOID:
            return self.leaf()
        entry = None
        if name in _FORMATTING:
            entry = self.add_formatting(name, attributes)
            if isinstance(entry, str):
                return entry
        if name in _MARKERS:
            self.add_marker()
        if name == "template":
            reason = self.count(3)  # and its content, a fragment of its own, which this counts only roughly
            if reason:
                return reason
        return self.push(name, "", entry)

    def implied_table_parents(self, name: str) -> str | None:
        """A row straight in a table gets a tbody; a cell, a tbody and a tr as well; a col, a colgroup."""
        table = self.last_in("table")
        if name == "col":
            return self.push("colgroup", "")
        if self.last_in("section") < table:
            reason = self.push("tbody", "")
            if reason:
                return reason
        if name != "tr" and self.last("tr") < table:
            return self.push("tr", "")
        return None

    def implied_end_tags(self, name: str) -> None:
        """The end tags a start tag implies, where the parser certainly closes something (else: keep it open,
        which can only count more)."""
        scope = self.last_in("scope")
        select = self.last("select")
        if name == "input" and select >= 0 and select >= self.last_in("scope_outside_select"):
            self.pop_to(select)  # an input in a select closes it first
        if name in _CLOSES_P:
            p = self.last("p")
            if p > self.last_in("button_scope"):
                self.pop_to(p)
        if name in ("li", "dd", "dt"):
            item = self.last("li") if name == "li" else self.last_in("dd_dt")
            barrier = self.last_in("li_barrier" if name == "li" else "dd_barrier")
            if item > barrier and item > scope:
                self.pop_to(item)
        elif name in _HEADINGS and self.stack and self.stack[-1][0] in _HEADINGS:
            self.pop_to(len(self.stack) - 1)
        elif name in ("option", "optgroup") and self.stack and self.stack[-1][0] == "option":
            self.pop_to(len(self.stack) - 1)
        elif name == "button":
            button = self.last("button")
            if button > scope:  # a button in a button closes it first
                self.pop_to(button)
        elif name == "table":
            # A table straight in a table (not in a cell or caption) closes the open one first.
            table = self.last("table")
            if table >= 0 and table > max(self.last_in("cell"), self.last("caption")):
                self.pop_to(table)
        elif name in ("td", "th", "tr", "tbody", "thead", "tfoot", "caption", "colgroup", "col"):
            table = self.last_in("table")
            if name in ("td", "th", "tr", "tbody", "thead", "tfoot"):
                open_one = self.last("tr") if name == "tr" else self.last_in("cell" if name in ("td", "th") else "section")
                if open_one > table >= 0:
                    self.pop_to(open_one)
            if table >= 0 and max(self.last_in("cell"), self.last("caption")) < table:
                # "Clear the stack back to a table (body, row) context": foster-parented elements are popped.
                keep = table
                if name in ("td", "th", "tr"):
                    keep = max(keep, self.last_in("section"))
                if name in ("td", "th"):
                    keep = max(keep, self.last("tr"))
                self.pop_to(keep + 1)

    def formatting_entry(self, name: str) -> _Entry | None:
        """The last live entry of that name on the active formatting list, after the last marker."""
        for entry in reversed(self.active):
            if entry is None:
                return None
            if entry.alive and entry.name == name:
                return entry
        return None

    def adoption_agency(self, entry: _Entry) -> str | None:
        """The end tag of a formatting element that is on the active list."""
        if not entry.on_stack:
            self.kill(entry)
            return None
        index = entry.index
        if self.last_in("scope") > index:
            return None  # not in scope: ignored
        specials = self.groups["special"]
        blocks_above = len(specials) - bisect.bisect_right(specials, index)
        if not blocks_above:
            self.kill(entry)
            self.pop_to(index)
            return None
        # Each block above it (8 rounds at most) moves into a new copy of it, with up to 3 copies of formatting
        # elements in between; the element leaves the stack. The last copy is popped again, unless the rounds ran
        # out: then it stays open (on top here, where it can only be closed with more than it would be).
        name = self.stack[index][0]
        self.stack[index] = (_GHOST, "", None, ())
        self.where[name].remove(index)
        self.ghosts += 1
        reason = self.count(4 * min(8, blocks_above))
        if reason:
            return reason
        if blocks_above < 8:
            self.kill(entry)
            return None
        return self.push(name, "", entry)

    def end(self, name: str) -> str | None:
        """Pop only where the parser certainly pops; where unsure, keep elements open (more depth, never less)."""
        if name in _END_POPS_NOTHING:
            return None
        if name in ("br", "p") and self.in_foreign():
            # The parser leaves SVG/MathML first (older ones put the element inside it: count that depth too).
            self.max_depth = max(self.max_depth, len(self.stack) - self.ghosts + 1)
            while self.in_foreign():
                self.pop_to(len(self.stack) - 1)
        if name == "br":  # </br> is <br>
            return self.start(name, "", False)
        index = self.last(name)
        if name in _FORMATTING:
            entry = self.formatting_entry(name)
            if entry is not None:
                return self.adoption_agency(entry)
            if index >= 0 and self.last_in("template") > index:
                # Behind a template's marker: count the adoption agency's copies all the same (more, never less).
                specials = self.groups["special"]
                return self.count(4 * min(8, len(specials) - bisect.bisect_right(specials, index)))
        if name in _HEADINGS:
            index = self.last_in("headings")  # </h1> closes an open h2 as well
        if name == "p" and index <= self.last_in("button_scope"):
            return self.leaf()  # no p open: the parser makes an empty one
        if index < 0:
            return None
        if "special" in self.stack[index][3]:
            group = {"li": "list_scope", "p": "button_scope"}.get(name, "scope")
            if index >= self.last_in(group):
                self.pop_to(index)
        elif index > self.last_in("special"):
            self.pop_to(index)


def html_measure(markup: str, *, limits: HtmlLimits) -> str | None:
    """None when the markup is within every cap, else the first cap it crosses, in words. Linear: one regex
    scan, and the replay stops as soon as the depth, attribute, formatting or element count is over."""
    if len(markup) > limits.max_bytes or len(markup.encode("utf-8", "surrogatepass")) > limits.max_bytes:
        return f"larger than {limits.max_bytes} bytes"
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
            return f"a tag with more than {limits.max_attributes} attributes"
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
