"""The search box's language, parsed into plain data (no Django, no SQL): the search selector turns it into a query.

    words  "a phrase"  -word  -"a phrase"
    from:x  to:x (To or Cc)  subject:x   (x a word or "a phrase")
    has:attachment  is:unread  is:read  is:starred  is:unstarred
    in:inbox|archive|spam|trash|<server folder>|anywhere
    before:YYYY-MM-DD (earlier than that day)  after:YYYY-MM-DD (that day or later)
    any of them negated with a leading "-"; anything else is plain text.

Text is cut into words the way the index cuts it: runs of letters and digits, lowercased; everything else
(punctuation, quotes, operators of FTS5 or tsquery, control characters) only separates words. So a word never
carries syntax to the database: the selector quotes each one anyway.
"""
import dataclasses
import re
import unicodedata
from datetime import date


def gettext_noop(message: str) -> str:
    """Marks a message for makemessages; the search page translates it (this module stays free of Django)."""
    return message


# A word: a run of letters and digits (what SQLite's unicode61 and the PostgreSQL trigger's split keep).
WORD = re.compile(r"[^\W_]+")
# One term: an optional "-", an optional "name:", then "a quoted phrase" (to the closing quote, or the end) or a
# bare run up to a space or a quote.
TERM = re.compile(r'(-?)(?:([A-Za-z]+):)?(?:"([^"]*)(?:"|$)|([^\s"]*))')
CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Longer than this, a word is refused (PostgreSQL refuses a tsquery word over 2 KB; 200 characters are under it).
MAX_WORD_CHARS = 200

FIELDS = {"from": "sender", "to": "recipients", "subject": "subject"}
BOXES = ("inbox", "archive", "spam", "trash")
ANYWHERE = ("anywhere", "all")
DATE = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})")


@dataclasses.dataclass(frozen=True)
class Text:
    """Words that must be next to each other (one word, or a phrase), in one field or any (field None)."""

    words: tuple[str, ...]
    field: str | None = None  # "subject", "sender", "recipients"
    negated: bool = False


@dataclasses.dataclass(frozen=True)
class Place:
    """in:<box> or in:<server folder>."""

    box: str  # one of BOXES, or "folder" (then folder is its name)
    folder: str = ""
    negated: bool = False


@dataclasses.dataclass
class Query:
    text: str = ""  # what was typed, control characters made spaces (shown back in the box)
    texts: list[Text] = dataclasses.field(default_factory=list)
    places: list[Place] = dataclasses.field(default_factory=list)
    has_attachment: bool | None = None
    unread: bool | None = None
    starred: bool | None = None
    after: date | None = None  # sort_at on or after this day
    before: date | None = None  # sort_at before this day
    error: str = ""  # why the query is refused (too long, too many terms); nothing is searched then
    # The same, as a message to translate and its values (the page shows it in the reader's language).
    error_message: str = ""
    error_values: dict = dataclasses.field(default_factory=dict)

    def refuse(self, message: str, **values) -> "Query":
        self.error, self.error_message, self.error_values = message % values, message, values
        return self

    @property
    def positive(self) -> list[Text]:
        return [t for t in self.texts if not t.negated]

    @property
    def negative(self) -> list[Text]:
        return [t for t in self.texts if t.negated]

    @property
    def empty(self) -> bool:
        """Nothing to look for (a blank box): no search is run."""
        return not (self.texts or self.places or self.after or self.before) and (
            self.has_attachment is None and self.unread is None and self.starred is None)

    def highlight_words(self) -> list[str]:
        return sorted({w for t in self.positive for w in t.words}, key=len, reverse=True)


def words(text: str) -> tuple[str, ...]:
    return tuple(WORD.findall(unicodedata.normalize("NFC", text).lower()))


def _day(value: str) -> date | None:
    found = DATE.fullmatch(value)
    if not found:
        return None
    try:
        return date(*(int(part) for part in found.groups()))
    except ValueError:
        return None


def parse(text: str, *, max_chars: int = 500, max_terms: int = 30) -> Query:
    """The query typed in the search box. Never raises: a query over a limit comes back with `error` set."""
    text = CONTROLS.sub(" ", text or "").strip()
    query = Query(text=text)
    if len(text) > max_chars:
        query.text = text[:max_chars]
        return query.refuse(gettext_noop("The search is too long: at most %(limit)d characters."), limit=max_chars)
    terms = 0
    position = 0
    while position < len(text):
        if text[position].isspace():
            position += 1
            continue
        found = TERM.match(text, position)
        if found.end() == position:  # (cannot happen: a quote always starts a quoted value; kept as a guard)
            position += 1
            continue
        position = found.end()
        negated, name = found.group(1) == "-", (found.group(2) or "").lower()
        quoted, bare = found.group(3), found.group(4)
        value = quoted if quoted is not None else bare or ""
        if not _operator(query, name, value, negated):
            # plain text: the name (if any) was part of it ("http://x", "re:" ...). A bare run with punctuation
            # inside (an address, a path) is one phrase, as typed.
            raw = f"{found.group(2)} {value}" if name else value
            found_words = words(raw)
            if not found_words:
                continue
            query.texts.append(Text(words=found_words, negated=negated))
        terms += 1
    for t in query.texts:
        if any(len(w) > MAX_WORD_CHARS for w in t.words):
            return query.refuse(gettext_noop("A word in the search is too long: at most %(limit)d characters."),
                                limit=MAX_WORD_CHARS)
    word_count = sum(len(t.words) for t in query.texts)
    if terms > max_terms or word_count > max_terms:
        query.refuse(gettext_noop("The search has too many words: at most %(limit)d."), limit=max_terms)
    return query


def _operator(query: Query, name: str, value: str, negated: bool) -> bool:
    """Apply name:value to the query; False if it is not an operator (then it is plain text)."""
    if not name or not value:
        return False
    if name in FIELDS:
        found = words(value)
        if not found:
            return False
        query.texts.append(Text(words=found, field=FIELDS[name], negated=negated))
        return True
    lowered = value.lower()
    if name == "has" and lowered in ("attachment", "attachments"):
        query.has_attachment = not negated
        return True
    if name == "is" and lowered in ("unread", "read", "starred", "unstarred", "flagged"):
        if lowered in ("unread", "read"):
            query.unread = (lowered == "unread") != negated
        else:
            query.starred = (lowered != "unstarred") != negated
        return True
    if name == "in":
        if lowered in ANYWHERE:
            return True
        if lowered in BOXES:
            query.places.append(Place(box=lowered, negated=negated))
        else:
            query.places.append(Place(box="folder", folder=value, negated=negated))
        return True
    if name in ("before", "after"):
        day = _day(value)
        if day is None:
            return False
        # -before:D is after:D, -after:D is before:D
        if (name == "after") != negated:
            query.after = max(query.after, day) if query.after else day
        else:
            query.before = min(query.before, day) if query.before else day
        return True
    return False
