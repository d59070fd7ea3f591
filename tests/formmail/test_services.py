"""form_mail_send: both bodies rendered from the form's data, the HTML one escaped, spooled like all site mail;
a line break in the subject or an address, or a bad address, is a clear error and nothing is queued."""
from pathlib import Path

import pytest
from django import forms

from mailsite.formmail.services import FormMailError, form_mail_send
from spooler.models import OutboxMessage
from tests.formmail.helpers import spooled

pytestmark = pytest.mark.django_db


class NoteForm(forms.Form):
    title = forms.CharField()


@pytest.fixture(autouse=True)
def _test_templates(settings):
    settings.TEMPLATES = [{**settings.TEMPLATES[0],
                           "DIRS": [*settings.TEMPLATES[0]["DIRS"], Path(__file__).parent / "templates"]}]


def note(title="Tom & <Jerry>"):
    form = NoteForm({"title": title})
    assert form.is_valid()
    return form


def send(**kwargs):
    args = {"form": note(), "to": ["team@site.example"], "template": "formmail_test/note", "subject": "A note",
            "context": {"extra": "<i>x</i>"}}
    return form_mail_send(**{**args, **kwargs})


def test_both_bodies_are_rendered_and_only_the_html_one_is_escaped():
    assert send(reply_to=[("Tom T.", "tom@visitor.example"), "jerry@visitor.example"]) == 1
    [message] = spooled()
    assert message.get_body(("plain",)).get_content().strip() == "Tom & <Jerry> — <i>x</i>"
    assert message.get_body(("html",)).get_content().strip() == (
        "<p>Tom &amp; &lt;Jerry&gt; — &lt;i&gt;x&lt;/i&gt;</p>")
    assert [a.addr_spec for a in message["Reply-To"].addresses] == ["tom@visitor.example", "jerry@visitor.example"]
    assert message["Reply-To"].addresses[0].display_name == "Tom T."
    row = OutboxMessage.objects.get()
    assert row.recipients == ["team@site.example"] and row.subject == "A note" and row.user is None


def test_the_sender_is_the_sites_unless_given(settings):
    settings.DEFAULT_FROM_EMAIL = "Site <site@site.example>"
    send()
    send(from_email="forms@site.example")
    assert [m["From"] for m in spooled()] == ["Site <site@site.example>", "forms@site.example"]


@pytest.mark.parametrize("subject", ["Hi\r\nBcc: victim@example.com", "Hi\n", "Hi\x00"])
def test_a_line_break_in_the_subject_is_refused(subject):
    with pytest.raises(FormMailError, match="subject cannot hold line breaks"):
        send(subject=subject)
    assert OutboxMessage.objects.count() == 0


@pytest.mark.parametrize("field, value", [
    ("to", ["team@site.example\r\nBcc: victim@example.com"]),
    ("reply_to", [("Tom\r\nBcc: victim@example.com", "tom@visitor.example")]),
    ("reply_to", ["tom@visitor.example\n"]),
])
def test_a_line_break_in_an_address_is_refused(field, value):
    with pytest.raises(FormMailError, match="address cannot hold line breaks"):
        send(**{field: value})
    assert OutboxMessage.objects.count() == 0


@pytest.mark.parametrize("field, value", [("to", ["nobody"]), ("to", ["a@b.example, c@d.example"]),
                                          ("reply_to", ["Tom <tom@visitor.example>"])])
def test_a_bad_address_is_refused_naming_it(field, value):
    with pytest.raises(FormMailError, match="is not a valid email address"):
        send(**{field: value})
    assert OutboxMessage.objects.count() == 0


def test_no_recipient_is_refused():
    with pytest.raises(FormMailError, match="at least one recipient"):
        send(to=[])
    assert OutboxMessage.objects.count() == 0
