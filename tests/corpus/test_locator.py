"""The corpus locator: our own files are always there, an extra corpus beside the clone is added only when present."""
import re

import pytest

from spooler.sessions import Email
from tests import corpus
from tests.corpus import generate


def test_our_own_corpus_is_complete():
    eml = corpus.require(corpus.eml_files(extras=None), at_least=36)
    html = corpus.require(corpus.html_files(extras=None), at_least=38)
    eml_html = corpus.eml_html_files(extras=None)
    assert [c.name for c in eml_html] == [f"eml-html/{c.path.stem}.eml" for c in html]
    names = [c.name for c in corpus.all_mail(extras=None)]
    assert len(names) == len(set(names)) == len(eml) + len(html)
    assert sum(c.path.stat().st_size for c in eml + html) < 3 * 1024 * 1024  # a few MB at most


def test_the_committed_messages_are_what_the_generator_writes():
    built = generate.build()
    on_disk = {c.path.name: c.data for c in corpus.eml_files(extras=None)}
    assert sorted(on_disk) == sorted(built), "rerun tests/corpus/generate.py and commit its output"
    for name, data in built.items():
        assert on_disk[name] == data, f"{name} differs from generate.py: rerun it and commit its output"


def test_an_html_message_wraps_its_body():
    case = next(c for c in corpus.eml_html_files(extras=None) if c.name == "eml-html/01-script.eml")
    data = case.data
    assert data.startswith(b"From: ") and b"\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" in data
    assert data.endswith(case.path.read_bytes().replace(b"\n", b"\r\n"))


def test_remote_content_points_only_at_remote_example():
    texts = [c.data.decode() for c in corpus.html_files(extras=None)]
    texts += [(e.html or "") + e.text for e in (Email.parse(c.data) for c in corpus.eml_files(extras=None))]
    hosts = {host for text in texts for host in re.findall(r"//(?:[^/@\s\"]*@)?([a-z0-9.-]+)", text, re.I)}
    assert hosts - {"remote.example", "www.w3.org"} == set()  # w3.org: XML namespaces, never fetched


def test_without_a_folder_beside_the_clone_there_are_no_extras(tmp_path, monkeypatch):
    monkeypatch.delenv("MAILSITE_CORPUS_EXTRAS", raising=False)
    assert corpus.extras_dir(tmp_path / "clone") is None
    assert not [c for c in corpus.all_mail(extras=None) if c.name.startswith("extra/")]


def test_a_folder_beside_the_clone_adds_extra_cases(tmp_path, monkeypatch):
    monkeypatch.delenv("MAILSITE_CORPUS_EXTRAS", raising=False)
    extra = tmp_path / "shared" / "corpus"
    (extra / "eml").mkdir(parents=True)
    (extra / "html").mkdir()
    (extra / "eml" / "x.eml").write_bytes(b"Subject: extra\r\n\r\n")
    (extra / "html" / "y.html").write_bytes(b"<b>y</b>")
    assert corpus.extras_dir(tmp_path / "clone") == extra
    names = [c.name for c in corpus.all_mail(extras=extra)]
    own = len(corpus.all_mail(extras=None))
    assert names[-1] == "extra/eml-html/y.eml" and "extra/eml/x.eml" in names and len(names) == own + 2
    (extra / "eml-html").mkdir()  # a stored eml-html/ folder is used as it is
    (extra / "eml-html" / "y.eml").write_bytes(b"Subject: stored\r\n\r\n")
    stored = corpus.eml_html_files(extras=extra)[-1]
    assert stored.name == "extra/eml-html/y.eml" and stored.data == b"Subject: stored\r\n\r\n"
    monkeypatch.setenv("MAILSITE_CORPUS_EXTRAS", "off")
    assert corpus.extras_dir(tmp_path / "clone") is None


def test_finding_no_files_fails_naming_the_folders(tmp_path):
    empty = corpus.Cases([], [tmp_path / "eml"])
    with pytest.raises(pytest.fail.Exception) as info:
        corpus.require(empty)
    assert str(tmp_path / "eml") in str(info.value) and "found 0" in str(info.value)
    with pytest.raises(pytest.fail.Exception) as info:
        corpus.own("eml/no-such-file.eml")
    assert str(corpus.ROOT / "eml" / "no-such-file.eml") in str(info.value)
