"""The replay's state: the parser's stack of open elements and its list of active formatting elements, with the
operations on them that the tree builder's steps are made of (push, pop, Noah's Ark, markers, reconstruction)."""
import dataclasses

from django.utils.translation import gettext

from .caps import HtmlLimits
from .elements import _ALL_SPECIAL, _HEADINGS, _INTEGRATION_POINTS, _MARKERS, _POINTS_OF, _SCOPE, _SPECIAL

# The groups the replay asks "where is the innermost open one?" of; each keeps its own stack of indexes. Defined
# here, not in elements: Python 3.11 compiles a method call on an imported name (_GROUPS_OF.get in push) as an
# attribute load that makes a bound method each time, measurably slower.
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

_GHOST = "#removed"  # the place of an element taken out of the middle of the stack (it counts for no depth)


@dataclasses.dataclass
class _Entry:
    """An element on the active formatting list."""

    key: str  # name and attributes, as Noah's Ark compares them
    name: str
    on_stack: bool = True
    alive: bool = True
    index: int = -1  # its place on the stack while on_stack



class _ReplayState:
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
            return gettext("nested more than %(limit)d elements deep") % {"limit": self.limits.max_depth}
        return self.count(1)

    def leaf(self) -> str | None:
        """A void or self-closed element: created one level below the current node, never open."""
        self.max_depth = max(self.max_depth, len(self.stack) - self.ghosts + 1)
        return self.count(1)

    def count(self, created: int) -> str | None:
        self.elements += created
        if self.elements > self.limits.max_elements:
            return gettext("more than %(limit)d elements") % {"limit": self.limits.max_elements}
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
            return gettext("more than %(limit)d formatting elements left open") % {
                "limit": self.limits.max_formatting}
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
