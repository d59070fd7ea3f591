"""Header fields the builder writes and folds itself, where the standard library's writer would change them.

That writer parses a value again before folding it, so text that looks like an RFC 2047 encoded word in a
subject or a display name ("=?utf-8?q?abc?=", even "=??Q??=") is decoded there and written back decoded, or
lost; the reader would not see what was given. Here such text, and any display name outside printable ASCII, is
written as encoded words (RFC 2047 section 5: in a phrase, only the safe Q characters), which every reader
decodes back to the text given. Lines are folded at 78 characters where a break is allowed (between mailboxes,
words of a name, encoded words); none is longer than 998.
"""

import email.header
import re

_ATEXT = re.escape("!#$%&'*+-/=?^_`{|}~")
_ATOMS = re.compile(rf"[A-Za-z0-9{_ATEXT}]+(?: [A-Za-z0-9{_ATEXT}]+)*\Z")  # Alice, Bob Smith: written as they are
_PRINTABLE = re.compile(r"[ -~]*\Z")
_QUOTED_MAX = 70  # a longer name is written as encoded words, which can be folded
_WORD_MAX = 60


class Field(str):
    """A header field written here. The policy stores an object with a ``name`` as it is and calls its fold();
    as a str it is the field's value as read."""

    def __new__(cls, name, groups, value):
        self = super().__new__(cls, value)
        self.name = name
        self._groups = groups  # [[token, ...], ...]: the groups are separated by commas, the tokens by a space
        return self

    def fold(self, *, policy):
        limit = policy.max_line_length or 78
        lines, line = [], f"{self.name}:"
        for index, tokens in enumerate(self._groups):
            last_group = index == len(self._groups) - 1
            for position, token in enumerate(tokens):
                piece = token if last_group or position < len(tokens) - 1 else token + ","
                if len(line) + 1 + len(piece) > limit and line != f"{self.name}:":
                    lines.append(line)
                    line = ""
                line += " " + piece
        lines.append(line)
        return policy.linesep.join(lines) + policy.linesep


def encoded_words(text: str) -> list[str]:
    """``text`` as RFC 2047 encoded words (UTF-8), each short enough to stand on a folded line."""
    return email.header.Header(text, "utf-8").encode(maxlinelen=_WORD_MAX, linesep="\n").split()


def phrase_tokens(name: str) -> list[str]:
    """A display name as the tokens of a phrase: atoms, one quoted string, or encoded words."""
    if "=?" not in name:
        if _ATOMS.match(name) and all(len(atom) <= _QUOTED_MAX for atom in name.split(" ")):
            return name.split(" ")
        if _PRINTABLE.match(name) and len(name) <= _QUOTED_MAX:
            return ['"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"']
    return encoded_words(name)


def address_field(name: str, mailboxes) -> Field:
    """From/To/Cc/Reply-To of mailboxes (each with ``name`` and ``addr_spec``)."""
    groups, shown = [], []
    for mailbox in mailboxes:
        if mailbox.name:
            groups.append([*phrase_tokens(mailbox.name), f"<{mailbox.addr_spec}>"])
            shown.append(f"{mailbox.name} <{mailbox.addr_spec}>")
        else:
            groups.append([mailbox.addr_spec])
            shown.append(mailbox.addr_spec)
    return Field(name, groups, ", ".join(shown))


def unstructured(name: str, text: str):
    """A subject (or another unstructured field): given to the standard library as it is, unless it holds "=?",
    which is then written as encoded words."""
    return Field(name, [encoded_words(text)], text) if "=?" in text else text
