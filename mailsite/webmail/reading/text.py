"""A text part on the page: escaped, its URLs and addresses made links that open in a new tab, and quoted lines
(">") folded. Linking is bounded: only the first TEXT_LINKIFY_MAX_CHARS characters and TEXT_LINKIFY_MAX_LINKS
links; the rest is escaped text."""
import re

from django.conf import settings
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# A URL runs to whitespace or a character that cannot end it in prose; an address is the usual dot-atom form.
_LINK = re.compile(
    r"(?P<url>\b(?:https?://|www\.)[^\s<>\"'`\x00-\x1f\x7f]{1,2000})"
    r"|(?P<mail>\b[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){1,8}\b)",
    re.IGNORECASE,
)
_TRAILING = ".,;:!?)]}'\""
_QUOTED = re.compile(r"^[ \t]*>")


def _max_chars() -> int:
    return settings.TEXT_LINKIFY_MAX_CHARS


def _max_links() -> int:
    return settings.TEXT_LINKIFY_MAX_LINKS


def text_linkify(text: str, budget: list[int] | None = None) -> SafeString:
    """Escaped text with http(s)/www URLs and e-mail addresses as links; at most budget[0] links (it is spent)."""
    budget = budget if budget is not None else [_max_links()]
    out, end = [], 0
    for match in _LINK.finditer(text):
        if budget[0] <= 0:
            break
        value = match.group(0)
        trimmed = value.rstrip(_TRAILING)
        if value[len(trimmed):].startswith(")") and trimmed.count("(") > trimmed.count(")"):
            trimmed += ")"  # (wiki/Foo_(bar)) keeps the parenthesis that belongs to it
        if not trimmed:
            continue
        start = match.start()
        if match.group("url"):
            href = trimmed if "://" in trimmed[:8] else "http://" + trimmed
        else:
            href = "mailto:" + trimmed
        out.append(escape(text[end:start]))
        out.append(f'<a href="{escape(href)}" target="_blank" rel="noopener noreferrer">{escape(trimmed)}</a>')
        end = start + len(trimmed)
        budget[0] -= 1
    out.append(escape(text[end:]))
    return mark_safe("".join(out))


def text_blocks(text: str) -> list[dict]:
    """The text as blocks to show: {"quoted": bool, "html": SafeString, "lines": int}; runs of quoted lines are
    one block each (the page folds them). Past the linking cap, the rest is one escaped block."""
    text = text or ""
    head, tail = text[:_max_chars()], text[_max_chars():]
    budget = [_max_links()]
    blocks, run, quoted = [], [], None
    for line in head.splitlines(keepends=True):
        is_quoted = bool(_QUOTED.match(line))
        if run and is_quoted != quoted:
            blocks.append(_block(run, quoted, budget))
            run = []
        run.append(line)
        quoted = is_quoted
    if run:
        blocks.append(_block(run, quoted, budget))
    if tail:
        blocks.append({"quoted": False, "html": escape(tail), "lines": tail.count("\n") + 1, "unlinked": True})
    return blocks


def _block(lines: list[str], quoted: bool, budget: list[int]) -> dict:
    return {"quoted": bool(quoted), "html": text_linkify("".join(lines), budget), "lines": len(lines)}
