"""The original message: its raw bytes (served as text by the view) and its header section, on demand."""
import re

HEADERS_MAX_BYTES = 256 * 1024  # more than this of a header section is cut (the whole is in "show original")
_END_OF_HEADERS = re.compile(rb"\r?\n\r?\n")


def raw_headers(raw: bytes) -> tuple[str, bool]:
    """The header section as text (undecoded bytes as U+FFFD) and whether it was cut at HEADERS_MAX_BYTES."""
    end = _END_OF_HEADERS.search(raw, 0, HEADERS_MAX_BYTES + 4)
    section = raw[:end.start()] if end else raw[:HEADERS_MAX_BYTES]
    cut = end is None and len(raw) > HEADERS_MAX_BYTES
    text = section.decode("utf-8", "replace").replace("\r\n", "\n").replace("\x00", "\ufffd")
    return text, cut
