"""What the HTML5 tree builder does to its stack and formatting list for each token, replayed only as far as the
caps depend on it (implied end and start tags, scope, the adoption agency, SVG/MathML breakout)."""
import bisect
import re

from .elements import (_BREAKOUT, _CLOSES_P, _END_POPS_NOTHING, _FOREIGN_ROOTS, _FORMATTING, _HEADINGS, _MARKERS,
                       _NO_RECONSTRUCT, _NOT_PUSHED, _TABLE_PARTS, _VOID)
from .replay_state import _GHOST, _Entry, _ReplayState

# The attributes that make a <font> leave SVG/MathML content. Defined here, not imported: Python 3.11 compiles a
# method call on an imported name (_FONT_BREAKOUT.search) as a slower attribute load.
_FONT_BREAKOUT = re.compile(r"(?:^|[\t\n\f\r /])(?:color|face|size)(?:[\t\n\f\r /=]|$)", re.I)


class _TreeReplay(_ReplayState):
    """The tree builder's reactions to text, start and end tags, on the state of _ReplayState."""

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

