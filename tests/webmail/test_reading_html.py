"""The HTML part's sanitiser and its frame document (pure functions; the corpus and the browser test the rest)."""
import types

import pytest

from mailsite.webmail.reading.html import (HtmlTooComplex, frame_csp, frame_document, frame_height,
                                           mail_html_sanitize)
from spooler.services.html import HtmlLimits

LOGO = types.SimpleNamespace(id=5)


def clean(markup: str, *, remote=False, parts=None):
    return mail_html_sanitize(markup, parts=parts if parts is not None else {"logo@x": LOGO},
                              part_url=lambda part: f"https://site.test/message/1/part/signed-{part.id}/", remote=remote)


@pytest.mark.parametrize("markup", [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", '<a href="javascript:alert(1)">x</a>',
    '<a href="jav&#x09;ascript:alert(1)">x</a>', '<a href="data:text/html,<script>alert(1)</script>">x</a>',
    "<svg><animate attributeName=href values=javascript:alert(1) /></svg>", "<iframe src=https://remote.example/>",
    "<object data=x></object><embed src=x>", "<form action=https://remote.example/><input name=p></form>",
    '<base href="https://remote.example/">', '<meta http-equiv="refresh" content="0;url=https://remote.example/">',
    "<style>@import url(https://remote.example/a.css)</style>", "<link rel=stylesheet href=https://remote.example/>",
    "<body onload=alert(1)>", "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
])
def test_nothing_executable_or_navigating_is_kept(markup):
    body = clean(markup, remote=True).body.lower()
    for bad in ("<script", "onerror", "onload", "javascript", "<iframe", "<object", "<embed", "<form", "<input",
                "<base", "<meta", "<style", "<link", "<svg", "<math", "@import", "data:text"):
        assert bad not in body, (markup, body)


def test_links_open_apart_and_show_their_real_target():
    body = clean('<a href="https://evil.example/login" title="bank">https://bank.example/</a>').body
    assert body == ('<a href="https://evil.example/login" target="_blank" rel="noopener noreferrer" '
                    'title="https://evil.example/login">https://bank.example/</a>')


def test_a_bidi_override_in_a_target_is_shown_escaped():
    body = clean('<a href="https://remote.example/\u202egnp.exe">x</a>').body
    assert 'title="https://remote.example/%E2%80%AEgnp.exe"' in body


def test_remote_images_are_dropped_and_counted_until_allowed():
    markup = '<img src="https://remote.example/a.png"><p style="color:red;background:url(http://remote.example/b.png)">x</p>'
    blocked = clean(markup)
    assert blocked.blocked_remote == 2 and "remote.example" not in blocked.body and 'style="color:red"' in blocked.body
    shown = clean(markup, remote=True)
    assert shown.blocked_remote == 0
    assert '<img src="https://remote.example/a.png">' in shown.body and "url(http://remote.example/b.png)" in shown.body


@pytest.mark.parametrize("style", [
    "width:expression(alert(1))", "background:url(javascript:alert(1))", "x:\\65xpression(alert(1))",
    "behavior:url(x.htc)", "-moz-binding:url(x.xml#x)", "background:image-set('https://remote.example/a.png' 1x)",
    "background:url(cid:logo@x)", "position:fixed;top:0", "color:red/**/;x:y",
])
def test_styles_keep_only_safe_properties_without_tricks(style):
    body = clean(f'<div style="{style}">x</div>', remote=True).body.lower()
    for bad in ("expression", "javascript", "behavior", "binding", "image-set", "position", "cid:", "\\"):
        assert bad not in body, (style, body)


def test_cid_images_become_their_signed_part_url_and_others_go():
    result = clean('<img src="cid:LOGO@x"><img src="cid:other@x"><img src="data:image/png;base64,iVBORw0KGgo=">'
                   '<img src="data:image/svg+xml;base64,PHN2Zz4="><img src="/relative.png"><img src="//remote.example/a">')
    assert result.used_parts == {5}
    assert result.body == ('<img src="https://site.test/message/1/part/signed-5/"><img>'
                           '<img src="data:image/png;base64,iVBORw0KGgo="><img><img><img>')


def test_markup_over_a_cap_is_not_parsed(settings):
    settings.HTML_MAX_DEPTH = 10
    with pytest.raises(HtmlTooComplex):
        clean("<div>" * 50)
    assert HtmlLimits.from_settings().max_depth == 10


def test_the_frame_document_starts_with_its_policy():
    csp = frame_csp(parts_source="https://site.test/message/1/part/", remote=False)
    assert csp.startswith("default-src 'none'; img-src data: https://site.test/message/1/part/; style-src 'unsafe-inline'")
    assert "https:" not in csp.replace("https://site.test", "")
    assert "img-src data: https://site.test/message/1/part/ https: http:;" in frame_csp(parts_source="https://site.test/message/1/part/", remote=True)
    document = frame_document("<p>x</p>", csp=csp)
    assert document.startswith(f'<!doctype html><html><head><meta http-equiv="Content-Security-Policy" content="{csp}">')


def test_the_frame_height_is_a_bounded_guess():
    assert frame_height("") == 160
    assert frame_height("<p>x</p>" * 100) > frame_height("<p>x</p>")
    assert frame_height('<img height="300">') >= 300
    assert frame_height("x" * 10_000_000) == 4000
