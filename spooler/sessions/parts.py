"""Attachment: one attached file (or inline image), as the builder writes it and the parser finds it.

Its own module so that email (the builder) and mimeparse (the parser) both import it and not each other.
"""

import dataclasses
import re
import unicodedata

# Filename cleaning: bidi controls, zero-width characters and characters Windows forbids.
_BIDI_AND_INVISIBLE = re.compile("[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
_FORBIDDEN = re.compile(r'[<>:"|?*]')
_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$", re.I)


@dataclasses.dataclass
class Attachment:
    filename: str | None
    content_type: str = "application/octet-stream"
    data: bytes = b""
    content_id: str | None = None  # without angle brackets; set for inline images of the HTML

    @property
    def size(self):
        return len(self.data)

    @property
    def safe_filename(self):
        """The filename with no path, control, bidi or Windows-forbidden characters; never empty."""
        name = unicodedata.normalize("NFC", self.filename or "")
        name = _BIDI_AND_INVISIBLE.sub("", name)
        name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
        name = re.split(r"[/\\]", name)[-1]
        name = _FORBIDDEN.sub("_", name).strip(" .")
        if _WINDOWS_RESERVED.match(name):
            name = "_" + name
        stem, dot, ext = name.rpartition(".")
        if len(name.encode("utf-8")) > 200:  # keep the extension, cut the stem
            ext = ext[:20] if dot else ""
            stem = (stem if dot else name).encode("utf-8")[: 200 - len(ext) - 1].decode("utf-8", "ignore")
            name = f"{stem}.{ext}" if ext else stem
        return name or "attachment"
