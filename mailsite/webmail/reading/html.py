"""An HTML part made safe to show: sanitised by nh3 (through spooler.services.html, which caps the markup first)
to an allowlist of tags, attributes, URL schemes and style properties, then put in a frame document whose own
CSP allows nothing but inline style, data: images and this message's own parts (and, once the reader asks,
remote images). The page shows it in an <iframe sandbox srcdoc> without allow-scripts or allow-same-origin.

Remote content: remote images (``src``) and ``url()`` in inline styles are dropped unless the reader asked for
them; either way there is no ``<style>``, ``<link>``, script, form, frame or object, so fonts and stylesheets never
load, and ``srcset``/``background=``/``poster`` and the like are never kept."""
import dataclasses
import html
import re
import unicodedata
from urllib.parse import quote

from spooler.services.html import HtmlTooComplex, html_sanitize

TAGS = frozenset(
    "a abbr address article aside b bdi bdo big blockquote br caption center cite code col colgroup dd del details "
    "dfn div dl dt em figcaption figure font footer h1 h2 h3 h4 h5 h6 header hr i img ins kbd li mark ol p pre q "
    "rp rt ruby s samp small span strike strong sub summary sup table tbody td tfoot th thead time tr tt u ul var "
    "wbr".split()
)
# Their content goes with them (the rest of what is not allowed is unwrapped: its text stays, escaped).
CLEAN_CONTENT_TAGS = frozenset("script style title head template noscript noembed noframes xmp iframe object "
                               "textarea select option button svg math".split())
_COMMON = {"align", "valign", "dir", "lang", "width", "height", "bgcolor", "style"}
ATTRIBUTES = {
    "*": _COMMON,
    "a": {"href"},
    "abbr": {"title"},
    "img": {"src", "alt", "border", "hspace", "vspace"},
    "table": {"border", "cellpadding", "cellspacing", "summary"},
    "td": {"colspan", "rowspan", "nowrap"},
    "th": {"colspan", "rowspan", "nowrap", "scope"},
    "col": {"span"},
    "colgroup": {"span"},
    "font": {"color", "face", "size"},
    "ol": {"start", "type", "reversed"},
    "ul": {"type"},
    "li": {"value"},
    "time": {"datetime"},
    "details": {"open"},
}
URL_SCHEMES = frozenset(("http", "https", "mailto", "cid", "data"))  # data: for images only (the filter below)
LINK_SCHEMES = ("http://", "https://", "mailto:")
STYLE_PROPERTIES = frozenset(
    "background background-color background-image background-position background-repeat background-size border "
    "border-bottom border-bottom-color border-bottom-style border-bottom-width border-collapse border-color "
    "border-left border-left-color border-left-style border-left-width border-radius border-right "
    "border-right-color border-right-style border-right-width border-spacing border-style border-top "
    "border-top-color border-top-style border-top-width border-width caption-side clear color direction display "
    "float font font-family font-size font-style font-variant font-weight height letter-spacing line-height "
    "list-style list-style-position list-style-type margin margin-bottom margin-left margin-right margin-top "
    "max-height max-width min-height min-width opacity overflow-wrap padding padding-bottom padding-left "
    "padding-right padding-top table-layout text-align text-decoration text-indent text-transform "
    "vertical-align white-space width word-break word-spacing word-wrap".split()
)
DATA_IMAGE = re.compile(r"data:image/(?:png|gif|jpeg|webp);base64,[A-Za-z0-9+/=\s]*\Z", re.IGNORECASE)
# In a declaration: never (old IE script, bindings, escapes that hide a word, comments, at-rules, markup).
_STYLE_NEVER = ("expression", "javascript", "vbscript", "behavior", "binding", "\\", "/*", "@", "<", "&")
_STYLE_URL = re.compile(r"url\(|image-set\(|image\(|src\(", re.IGNORECASE)
_REMOTE_URL_ARGUMENT = re.compile(r"""url\(\s*["']?https?://[^"'()\s]+["']?\s*\)""", re.IGNORECASE)
_ANCHOR = re.compile(r'<a((?:\s+[^\s=>]+(?:="[^"]*")?)*)\s*>')
_HREF = re.compile(r'\shref="([^"]*)"')
_TAG = re.compile(r"<[^>]*>")  # near enough for a height guess (a ">" in a value only shortens it)
_BLOCK = re.compile(r"<(?:p|div|br|tr|li|h[1-6]|table|blockquote|hr)\b", re.IGNORECASE)
_IMG_HEIGHT = re.compile(r'<img\b[^>]*?\sheight="(\d{1,5})"', re.IGNORECASE)
_IMG = re.compile(r"<img\b", re.IGNORECASE)


@dataclasses.dataclass
class Sanitized:
    body: str  # the sanitised markup (nh3's output, links and parts rewritten)
    blocked_remote: int  # remote images and style URLs left out (0 when remote content was allowed)
    used_parts: set  # attachment ids of the inline parts the body shows


def mail_html_sanitize(markup: str, *, parts: dict, part_url, remote: bool) -> Sanitized:
    """The HTML part, sanitised. ``parts``: cid_key -> attachment of this message's inline images; ``part_url``:
    attachment -> its (signed) URL; ``remote``: keep remote images and style URLs. Raises HtmlTooComplex for
    markup over a cap (nothing of it is parsed then)."""
    from .parts import cid_key

    blocked, used = [0], set()

    def keep(element: str, attribute: str, value: str):
        if attribute == "style":
            return _style(value, remote, blocked)
        if attribute == "href":
            return value if value.strip().lower().startswith(LINK_SCHEMES) else None
        if attribute == "src":
            url = value.strip()
            low = url.lower()
            if low.startswith("cid:"):
                part = parts.get(cid_key(url[4:]))
                if part is None:
                    return None
                used.add(part.id)
                return part_url(part)
            if low.startswith("data:"):
                return url if DATA_IMAGE.match(url) else None
            if low.startswith(("http://", "https://")):
                if remote:
                    return url
                blocked[0] += 1
            return None
        return value

    body = html_sanitize(
        markup, tags=set(TAGS), clean_content_tags=set(CLEAN_CONTENT_TAGS), attributes=ATTRIBUTES,
        url_schemes=set(URL_SCHEMES), url_relative="deny", attribute_filter=keep,
        filter_style_properties=set(STYLE_PROPERTIES), link_rel="noopener noreferrer",
        set_tag_attribute_values={"a": {"target": "_blank"}}, strip_comments=True,
    )
    return Sanitized(body=_ANCHOR.sub(_titled, body), blocked_remote=blocked[0], used_parts=used)


def _style(value: str, remote: bool, blocked: list) -> str | None:
    kept = []
    for declaration in value.split(";"):
        low = declaration.lower()
        if any(word in low for word in _STYLE_NEVER):
            continue
        if _STYLE_URL.search(declaration):
            # Only url(http(s)://...) and only once the reader asked; image-set() and the rest never.
            stripped = _REMOTE_URL_ARGUMENT.sub("", declaration)
            if _STYLE_URL.search(stripped) or "(" in stripped.replace("rgb(", "").replace("rgba(", ""):
                continue
            if not remote:
                blocked[0] += 1
                continue
        if declaration.strip():
            kept.append(declaration.strip())
    return "; ".join(kept) or None


def _titled(match) -> str:
    """An anchor with its real target as its title (whatever its text says), shown on hover; bidi overrides and
    other invisible characters in it are shown percent-encoded, as they are."""
    attributes = match.group(1)
    href = _HREF.search(attributes)
    if not href:
        return match.group(0)
    target = "".join(quote(c) if unicodedata.category(c) in ("Cc", "Cf") else c for c in html.unescape(href.group(1)))
    return f'<a{attributes} title="{html.escape(target, quote=True)}">'


def frame_csp(*, parts_source: str, remote: bool) -> str:
    """The frame document's own policy: nothing but inline style and images from data:, this message's parts and
    (once asked) remote hosts. The page's policy applies inside the frame too (it is inherited by srcdoc)."""
    images = f"data: {parts_source}" + (" https: http:" if remote else "")
    return (f"default-src 'none'; img-src {images}; style-src 'unsafe-inline'; form-action 'none'; "
            "base-uri 'none'")


FRAME_STYLE = ("html{color-scheme:light}body{margin:8px;font:15px/1.45 system-ui,sans-serif;color:#111;"
               "overflow-wrap:anywhere}img{max-width:100%;height:auto}table{max-width:100%}"
               "pre{white-space:pre-wrap}")


def frame_document(body: str, *, csp: str) -> str:
    """The whole document of the frame (for srcdoc): its CSP first, before anything of the message."""
    policy = html.escape(csp, quote=False).replace('"', "&quot;")
    return (f'<!doctype html><html><head><meta http-equiv="Content-Security-Policy" content="{policy}">'
            f'<meta charset="utf-8"><base target="_blank"><style>{FRAME_STYLE}</style></head>'
            f"<body>{body}</body></html>")


def frame_height(body: str) -> int:
    """A guess of the rendered height in CSS pixels (the frame cannot run script to tell, and the page may not
    look inside it): lines of about 90 characters, blocks, and images by their height attribute."""
    text = len(html.unescape(_TAG.sub("", body)))
    images = _IMG.findall(body)
    image_px = sum(min(int(h), 2000) for h in _IMG_HEIGHT.findall(body))
    image_px += 150 * max(0, len(images) - len(_IMG_HEIGHT.findall(body)))
    estimate = 16 + 22 * (text // 90 + 1) + 12 * len(_BLOCK.findall(body)) + image_px
    return max(160, min(estimate, 4000))


__all__ = ["HtmlTooComplex", "Sanitized", "frame_csp", "frame_document", "frame_height", "mail_html_sanitize"]
