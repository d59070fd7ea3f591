"""The caps HTML from mail is measured against (from settings), and the error for markup over one."""
import dataclasses

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

