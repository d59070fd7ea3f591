"""The test corpus: malformed and hostile mail and HTML that the project writes itself (see README.md here).

    eml/    malformed messages, written by generate.py and committed
    html/   hostile HTML bodies, written by hand
            each is also given as a text/html message ("eml-html"), built here, not stored twice

Every test that reads the corpus goes through this module. A corpus folder beside the clone is optional
(../shared/corpus from the repository root, optional): when it is there, its eml/, eml-html/ and html/ files are
added as extra cases named "extra/..."; nothing requires it. MAILSITE_CORPUS_EXTRAS=off leaves it out.
"""
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
REPO_ROOT = ROOT.parents[1]
DATE = "Tue, 03 Mar 2026 09:30:00 +0000"


@dataclass(frozen=True)
class Case:
    """One corpus file. `name` is unique across the corpus and the extras (a test id, a UID)."""

    name: str
    path: Path  # the file read: for an eml-html case built here, its .html body
    wrap: bool = False

    @property
    def data(self) -> bytes:
        body = self.path.read_bytes()
        return wrap_html(self.path.stem, body) if self.wrap else body

    def __str__(self):
        return self.name


class Cases(list):
    """A list of cases that knows the folders it came from, to name them when it is empty."""

    def __init__(self, cases, where):
        super().__init__(cases)
        self.where = [str(path) for path in where]


def wrap_html(stem: str, body: bytes) -> bytes:
    """An HTML body as a text/html message, ready for a Maildir."""
    head = (f"From: Corpus Sender <corpus@example.test>\r\nTo: reader@example.test\r\nSubject: html {stem}\r\n"
            f"Date: {DATE}\r\nMessage-ID: <html-{stem}@corpus.mailsite.test>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/html; charset=utf-8\r\n\r\n")
    return head.encode() + body.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def extras_dir(repo_root: Path = REPO_ROOT) -> Path | None:
    """The optional extra corpus beside the clone, or None when it is absent or switched off (optional)."""
    if os.environ.get("MAILSITE_CORPUS_EXTRAS", "").lower() in ("off", "0", "no", "false"):
        return None
    path = repo_root.parent / "shared" / "corpus"  # optional: another checkout's corpus, never required
    return path if path.is_dir() else None


_DEFAULT = object()


def _roots(extras):
    extras = extras_dir() if extras is _DEFAULT else extras
    return [("", ROOT)] + ([("extra/", Path(extras))] if extras else [])


def _files(root, folder, pattern):
    return sorted((root / folder).glob(pattern))


def eml_files(extras=_DEFAULT) -> Cases:
    """The malformed messages: tests/corpus/eml/*.eml, then the extras' eml/*.eml.

    `extras`: the extra corpus folder, None for none; by default extras_dir().
    """
    roots = _roots(extras)
    return Cases([Case(f"{label}eml/{p.name}", p) for label, root in roots for p in _files(root, "eml", "*.eml")],
                 [root / "eml" for _, root in roots])


def html_files(extras=_DEFAULT) -> Cases:
    """The hostile HTML bodies as they are (not messages)."""
    roots = _roots(extras)
    return Cases([Case(f"{label}html/{p.name}", p) for label, root in roots for p in _files(root, "html", "*.html")],
                 [root / "html" for _, root in roots])


def eml_html_files(extras=_DEFAULT) -> Cases:
    """Each HTML body as a text/html message: a root's eml-html/ folder if it has one, else built from its html/."""
    cases, where = [], []
    for label, root in _roots(extras):
        stored = _files(root, "eml-html", "*.eml")
        if stored:
            cases += [Case(f"{label}eml-html/{p.name}", p) for p in stored]
            where.append(root / "eml-html")
        else:
            cases += [Case(f"{label}eml-html/{p.stem}.eml", p, wrap=True) for p in _files(root, "html", "*.html")]
            where.append(root / "html")
    return Cases(cases, where)


def all_mail(extras=_DEFAULT) -> Cases:
    """Every message of the corpus: the malformed ones, then the HTML ones."""
    eml, html = eml_files(extras), eml_html_files(extras)
    return Cases(eml + html, [*eml.where, *html.where])


def own(name: str) -> bytes:
    """The bytes of one file of this corpus by its name under tests/corpus ("eml/02-latin1-headers.eml")."""
    path = ROOT / name
    if not path.is_file():
        pytest.fail(f"corpus file {path} is missing (eml/ is written by tests/corpus/generate.py)", pytrace=False)
    return path.read_bytes()


def require(cases: Cases, at_least: int = 1) -> Cases:
    """The cases, or a test failure naming the folders searched when there are fewer than `at_least`."""
    if len(cases) < at_least:
        where = ", ".join(getattr(cases, "where", [str(ROOT)]))
        pytest.fail(f"expected at least {at_least} corpus files, found {len(cases)} in {where} "
                    "(tests/corpus/ is part of the repository; eml/ is written by tests/corpus/generate.py)",
                    pytrace=False)
    return cases
