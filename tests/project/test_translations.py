"""The Spanish catalog is complete and compiled: makemessages (run on a copy of the tree, never on the repo) leaves
no untranslated and no fuzzy entry, the committed .mo is the committed .po compiled, and no template shows text
that does not go through the translation tags."""
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = [code for code, _name in settings.LANGUAGES if code != "en"]
# What makemessages reads: the code and the templates (tests, benchmarks and the venv are not the UI).
SOURCES = ["manage.py", "mailsite", "spooler", "templates", "static", "locale"]


def _copy_tree(target: Path) -> None:
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, target / name)


@pytest.fixture(scope="module")
def gathered(tmp_path_factory) -> Path:
    """A copy of the tree after `manage.py makemessages` for every language."""
    tree = tmp_path_factory.mktemp("tree")
    _copy_tree(tree)
    for code in LANGUAGES:
        subprocess.run([sys.executable, "manage.py", "makemessages", "-l", code], cwd=tree, check=True,
                       capture_output=True, timeout=300)
    return tree


def _key(entry) -> tuple:
    return (entry.msgctxt, entry.msgid, entry.msgid_plural)


def _catalog(entries) -> dict:
    return {_key(e): (e.msgstr, tuple(sorted(e.msgstr_plural.items()))) for e in entries if e.msgid}


@pytest.mark.parametrize("code", LANGUAGES)
def test_makemessages_leaves_nothing_untranslated_or_fuzzy(gathered, code):
    po = polib.pofile(str(gathered / "locale" / code / "LC_MESSAGES" / "django.po"))
    assert len(po) > 250  # the whole UI was gathered (not an empty run)
    assert [e.msgid for e in po.untranslated_entries()] == []
    assert [e.msgid for e in po.fuzzy_entries()] == []
    assert [e.msgid for e in po.obsolete_entries()] == []
    # Every string of the committed catalog is still used (nothing left for a translator to maintain in vain).
    committed = polib.pofile(str(ROOT / "locale" / code / "LC_MESSAGES" / "django.po"))
    assert {_key(e) for e in committed} == {_key(e) for e in po}


@pytest.mark.parametrize("code", LANGUAGES)
def test_the_committed_mo_is_the_po_compiled(tmp_path, code):
    messages = ROOT / "locale" / code / "LC_MESSAGES"
    compiled = tmp_path / "django.mo"
    # What compilemessages runs; --check-format: the placeholders of each translation match its original's.
    subprocess.run(["msgfmt", "--check-format", "-o", str(compiled), str(messages / "django.po")], check=True,
                   capture_output=True, timeout=60)
    assert _catalog(polib.mofile(str(compiled))) == _catalog(polib.mofile(str(messages / "django.mo")))
    assert _catalog(polib.mofile(str(compiled))) == _catalog(polib.pofile(str(messages / "django.po")))


# Text a reader sees: between tags, or in these attributes.
_BLOCKS = re.compile(r"{%\s*(blocktranslate|blocktrans|comment)\b.*?%}.*?{%\s*end\1\s*%}", re.S)
_TEMPLATE_TAGS = re.compile(r"{%.*?%}|{{.*?}}|{#.*?#}", re.S)
_CODE = re.compile(r"<code>.*?</code>", re.S)
_SHOWN_ATTRIBUTE = re.compile(r'\b(?:aria-label|title|placeholder|alt|data-text-[a-z-]+)="([^"]*)"')
_TAG = re.compile(r"<[^>]*>", re.S)
_WORD = re.compile(r"[A-Za-z]{2,}")
# Not words to translate: the brand, a key named in the shortcut help, entities.
_ALLOWED = {"Mailsite", "Esc", "nbsp", "amp", "hellip"}


def _shown_words(source: str) -> list[str]:
    """The words of a template a reader would see that no translation tag carries."""
    text = _TEMPLATE_TAGS.sub(" 0 ", _BLOCKS.sub(" 0 ", source))
    text = _CODE.sub(" ", text)  # search operators (from:, is:unread) are the same in every language
    words = [w for value in _SHOWN_ATTRIBUTE.findall(text) for w in _WORD.findall(value)]
    words += _WORD.findall(_TAG.sub(" ", text))
    return [w for w in words if w not in _ALLOWED]


def test_templates_show_no_text_outside_the_translation_tags():
    untranslated = {}
    for path in sorted((ROOT / "templates").rglob("*.html")):
        name = str(path.relative_to(ROOT))
        words = _shown_words(path.read_text())
        if words:
            untranslated[name] = words
    assert untranslated == {}


def test_the_template_check_finds_plain_text():
    assert _shown_words('<p class="note">Hello there</p><a title="Open it">{{ x }}</a>') == [
        "Open", "it", "Hello", "there"]
    assert _shown_words('{% load i18n %}<p>{% translate "Hello" %}</p><code>from:</code>') == []
    assert _shown_words('<a href="{% url "x" %}">{% blocktranslate %}Hi {{ n }}{% endblocktranslate %}</a>') == []
