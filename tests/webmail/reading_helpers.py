"""Reading the message page as a browser would: the frame of the HTML part and its srcdoc document."""
from html.parser import HTMLParser


class _Frames(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.frames: list[dict] = []

    def handle_starttag(self, tag, attrs):
        if tag == "iframe":
            self.frames.append(dict(attrs))


def page_frames(page: str) -> list[dict]:
    """The attributes of every <iframe> of the page, unescaped (srcdoc as the browser reads it)."""
    parser = _Frames()
    parser.feed(page)
    parser.close()
    return parser.frames


def frame_srcdoc(page: str) -> str:
    frames = page_frames(page)
    assert len(frames) == 1, f"expected one frame, found {len(frames)}"
    return frames[0]["srcdoc"]


class _Markup(HTMLParser):
    """Every tag and attribute of a document, the way an HTML parser finds them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def document_tags(document: str) -> list[tuple[str, dict]]:
    parser = _Markup()
    parser.feed(document)
    parser.close()
    return parser.tags
