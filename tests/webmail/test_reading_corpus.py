"""Every message of the hostile corpus renders the message page, and what the frame of its HTML part gets is
inert: no script, handler, frame, form, plugin, base, refresh, stylesheet or dangerous URL; no remote URL at all
until the reader asks; the text part's links are the site's own, escaped."""
import re

import pytest
from django.urls import reverse

from spooler.services.inbound.store import message_store
from tests import corpus
from tests.fixtures.users import make_user
from tests.webmail.reading_helpers import document_tags, page_frames

pytestmark = pytest.mark.django_db

ALLOWED_FRAME_TAGS = {
    "html", "head", "meta", "base", "style", "body", "a", "abbr", "address", "article", "aside", "b", "bdi", "bdo",
    "big", "blockquote", "br", "caption", "center", "cite", "code", "col", "colgroup", "dd", "del", "details",
    "dfn", "div", "dl", "dt", "em", "figcaption", "figure", "font", "footer", "h1", "h2", "h3", "h4", "h5", "h6",
    "header", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "rp", "rt", "ruby", "s", "samp",
    "small", "span", "strike", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead",
    "time", "tr", "tt", "u", "ul", "var", "wbr",
}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "background", "poster", "srcset", "data", "xlink:href",
                  "lowsrc", "dynsrc", "ping", "cite", "codebase", "longdesc", "usemap"}
SAFE_LINK = re.compile(r"(https?://|mailto:)", re.IGNORECASE)
DATA_IMAGE = re.compile(r"data:image/(png|gif|jpeg|webp);base64,", re.IGNORECASE)


def assert_inert_frame(srcdoc: str, *, name: str, part_prefix: str, remote: bool) -> None:
    assert srcdoc.startswith('<!doctype html><html><head><meta http-equiv="Content-Security-Policy" '
                             "content=\"default-src 'none'; img-src data: "), name
    tags = document_tags(srcdoc)
    head, body = tags[:6], tags[6:]  # ours: html, head, the CSP meta, the charset meta, base target, style
    assert [t for t, _ in head] == ["html", "head", "meta", "meta", "base", "style"], name
    assert head[4][1] == {"target": "_blank"}, name
    for tag, attributes in body:
        assert tag in ALLOWED_FRAME_TAGS - {"html", "head", "meta", "base", "style", "body"} or tag == "body", (name, tag)
        for attribute, value in attributes.items():
            value = value or ""
            assert not attribute.startswith("on"), (name, tag, attribute)
            assert attribute not in ("srcset", "action", "formaction", "background", "poster", "ping", "xlink:href"), (name, attribute)
            if attribute in URL_ATTRIBUTES:
                if tag == "a":
                    assert SAFE_LINK.match(value), (name, value)
                elif tag == "img":
                    ok = DATA_IMAGE.match(value) or value.startswith(part_prefix) or (
                        remote and value.lower().startswith(("http://", "https://")))
                    assert ok, (name, value)
                else:
                    pytest.fail(f"{name}: {tag} {attribute}={value}")
            if attribute == "style":
                low = value.lower()
                for word in ("expression", "javascript", "behavior", "binding", "@import", "\\"):
                    assert word not in low, (name, value)
                if not remote:
                    assert "url(" not in low, (name, value)
            if attribute == "title" and tag != "a":
                assert tag == "abbr", (name, tag)
        if tag == "a" and "href" in attributes:
            assert attributes.get("target") == "_blank" and attributes.get("rel") == "noopener noreferrer", name
            assert attributes.get("title"), name
    text = srcdoc.lower()
    assert "<script" not in text and "javascript:" not in text and "vbscript:" not in text, name
    if not remote:
        assert "remote.example/" not in re.sub(r'<a [^>]*>', "", srcdoc) or _only_in_link_text(srcdoc), name


def _only_in_link_text(srcdoc: str) -> bool:
    """remote.example may be shown as text (a link's words); never as an image or style URL."""
    return all(not (attributes.get("src") or "").count("remote.example") and "remote.example" not in (attributes.get("style") or "")
               for _, attributes in document_tags(srcdoc))


@pytest.fixture(scope="module")
def cases():
    return corpus.require(corpus.all_mail(), at_least=80)


def test_every_corpus_message_renders_and_its_frame_is_inert(client, cases):
    reader = make_user("reader")
    account = reader.mail_accounts.get()
    client.force_login(reader)
    framed = 0
    for case in cases:
        message = message_store(account=account, uid=case.name, raw=case.data)
        for query in ("", "?remote=1", "?headers=1"):
            response = client.get(reverse("webmail:message", args=[message.id]) + query)
            assert response.status_code == 200, case.name
            page = response.content.decode()
            article = page.split('<article class="card message">')[1].split("</article>")[0]
            frames = page_frames(article)
            for tag in ("<script", "<img", "<svg", "<form", "<base", "<meta", "<object", "<style", "<embed"):
                assert tag not in article.lower(), (case.name, tag)
            if frames:
                assert len(frames) == 1 and article.lower().count("<iframe") == 1, case.name
                frame = frames[0]
                assert frame["sandbox"] == "allow-popups allow-popups-to-escape-sandbox", case.name
                prefix = f"http://testserver/message/{message.id}/part/"
                assert_inert_frame(frame["srcdoc"], name=case.name, part_prefix=prefix, remote=query == "?remote=1")
                csp = response["Content-Security-Policy"]
                assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
                framed += 1 if not query else 0
            else:
                assert "<iframe" not in article.lower(), case.name
                for tag, attributes in document_tags(article.split('<div class="body text">')[1]):
                    assert tag in ("pre", "a", "details", "summary", "div"), (case.name, tag)
                    if tag == "a":
                        assert set(attributes) == {"href", "target", "rel"}, (case.name, attributes)
                        assert SAFE_LINK.match(attributes["href"]), (case.name, attributes["href"])
    assert framed >= 45  # the html/ bodies and the HTML of the eml cases
