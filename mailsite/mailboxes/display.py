"""Text from mail as pages show it. Bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069), direction
marks (U+200E, U+200F, U+061C) and invisible spaces and joiners of no use in a name (U+200B, U+2060, U+FEFF) let a
sender make a name or subject read other than it is ("invoice‮fdp.exe" shown as "invoiceexe.pdf") or bleed its
direction into the page around it; they are removed from the fields shown (the raw message keeps them). The
joiners that scripts and emoji need (U+200C, U+200D) stay."""
import re

_INVISIBLE = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\u200b\u2060\ufeff]")


def invisible_strip(value: str) -> str:
    return _INVISIBLE.sub("", value) if value else value
