"""The public contact form: spooled to CONTACT_EMAIL with Reply-To the visitor; a honeypot, rate limits per client
and overall, CSRF, size limits and line breaks refused beside the field; on any error nothing is queued and what
the visitor typed is kept."""
import logging

import pytest
from django.test import Client
from django.urls import reverse

from spooler.models import OutboxMessage
from tests.fixtures.net import free_port
from tests.formmail.helpers import FORM, spooled

pytestmark = pytest.mark.django_db

URL = "/contact/"


@pytest.fixture(autouse=True)
def _contact(settings):
    settings.CONTACT_EMAIL = "owner@site.example"
    settings.CONTACT_RATE_PER_IP = "100/h"
    settings.CONTACT_RATE_GLOBAL = "1000/h"


def post(client, remote_addr="192.0.2.10", forwarded_for=None, **changes):
    meta = {"HTTP_X_FORWARDED_FOR": forwarded_for} if forwarded_for else {}
    return client.post(URL, {**FORM, **changes}, REMOTE_ADDR=remote_addr, **meta)


def test_the_form_is_public_and_carries_a_csrf_token_and_a_hidden_honeypot(client):
    assert reverse("formmail:contact") == URL
    page = client.get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="csrfmiddlewaretoken"' in html
    for field in ("name", "email", "subject", "message"):
        assert f'name="{field}"' in html
    assert '<div class="visually-hidden" aria-hidden="true">' in html and 'name="website"' in html
    assert 'tabindex="-1"' in html


def test_a_logged_in_user_finds_their_name_and_address_filled_in(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("gina", email="gina@example.test", first_name="Gina"))
    html = client.get(URL).content.decode()
    assert 'value="Gina"' in html and 'value="gina@example.test"' in html


def test_a_message_is_spooled_to_the_contact_address_with_reply_to_the_visitor(client):
    response = post(client)
    assert response.status_code == 302 and response["Location"] == reverse("formmail:contact_thanks")
    assert "Your message is on its way" in client.get(response["Location"]).content.decode()
    row = OutboxMessage.objects.get()
    assert row.recipients == ["owner@site.example"] and row.status == "queued"
    [message] = spooled()
    assert message["To"] == "owner@site.example"
    assert message["Reply-To"].addresses[0].addr_spec == "vera@visitor.example"
    assert message["Reply-To"].addresses[0].display_name == "Vera Visitor"
    assert message["Subject"] == "Contact form: A question"
    assert "Mailsite" in message["From"]
    text = message.get_body(("plain",)).get_content()
    assert "Vera Visitor (vera@visitor.example) wrote" in text and "how do I sign up?" in text
    assert "how do I sign up?" in message.get_body(("html",)).get_content()


def test_a_script_in_the_message_is_escaped_in_the_html_body_and_kept_as_typed_in_the_text(client):
    post(client, message="<script>alert(1)</script> & more", name='Eve "<b>"')
    [message] = spooled()
    html = message.get_body(("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in html
    assert "<b>" not in html
    assert "<script>alert(1)</script> & more" in message.get_body(("plain",)).get_content()
    assert message["Reply-To"].addresses[0].display_name == 'Eve "<b>"'


def test_a_filled_honeypot_is_thanked_and_nothing_is_queued(client):
    response = post(client, website="http://spam.example")
    assert response.status_code == 302 and response["Location"] == reverse("formmail:contact_thanks")
    response = post(client, website="x", email="not an address")  # thanked whatever else it sent
    assert response.status_code == 302
    assert OutboxMessage.objects.count() == 0


@pytest.mark.parametrize("field", ["name", "email", "subject"])
@pytest.mark.parametrize("breaks", ["\r\n", "\n", "\r", "\u2028"])
def test_a_line_break_in_a_single_line_field_is_an_error_beside_it(client, field, breaks):
    value = {"name": "Vera", "email": "vera@visitor.example", "subject": "Hi"}[field]
    response = post(client, **{field: value + breaks + "Bcc: victim@example.com"})
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<p class="error" id="{field}-error">Line breaks and control characters are not allowed here.</p>' in html
    assert html.count('class="error" id=') == 1  # beside that field only
    assert "how do I sign up?" in html  # what was typed is kept
    assert OutboxMessage.objects.count() == 0


def test_a_trailing_line_break_is_refused_not_stripped(client):
    response = post(client, subject="Hi\r\n")
    assert 'id="subject-error"' in response.content.decode()
    assert OutboxMessage.objects.count() == 0


def test_line_breaks_in_the_message_itself_are_fine(client):
    assert post(client, message="one\r\ntwo\nthree").status_code == 302
    assert "one\r\ntwo\r\nthree\r\n" in spooled()[0].get_body(("plain",)).get_content()


@pytest.mark.parametrize("field, setting", [("message", "CONTACT_MAX_MESSAGE_CHARS"),
                                            ("subject", "CONTACT_MAX_SUBJECT_CHARS"),
                                            ("name", "CONTACT_MAX_NAME_CHARS")])
def test_an_oversized_field_is_an_error_beside_it(client, settings, field, setting):
    setattr(settings, setting, 50)
    assert post(client, **{field: "x" * 50}).status_code == 302  # at the limit: fine
    response = post(client, **{field: "x" * 51})
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="{field}-error">Ensure this value has at most 50 characters (it has 51).</p>' in html
    assert 'maxlength="50"' in html
    assert OutboxMessage.objects.count() == 1


@pytest.mark.parametrize("address", ["not an address", "vera@", "vera@localhost-no-dot", "<vera@visitor.example>",
                                     "a, b@visitor.example"])
def test_a_bad_address_is_an_error_beside_it_and_what_was_typed_is_kept(client, address):
    response = post(client, email=address)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="email-error">Enter a valid email address.</p>' in html
    assert 'value="A question"' in html and "how do I sign up?" in html
    assert OutboxMessage.objects.count() == 0


def test_missing_fields_are_errors_beside_them(client):
    response = client.post(URL, {"website": ""}, REMOTE_ADDR="192.0.2.10")
    html = response.content.decode()
    for field in ("name", "email", "subject", "message"):
        assert f'id="{field}-error">This field is required.</p>' in html
    assert OutboxMessage.objects.count() == 0


def test_a_post_without_the_csrf_token_is_refused():
    client = Client(enforce_csrf_checks=True)
    assert client.post(URL, FORM, REMOTE_ADDR="192.0.2.10").status_code == 403
    assert OutboxMessage.objects.count() == 0


# --- rate limits ---------------------------------------------------------------------------------------------

LIMITED = "Too many messages have been sent from here or to us just now."


def test_the_limit_per_client_address_refuses_with_a_message_at_the_top(client, settings, rate_limit_redis):
    settings.CONTACT_RATE_PER_IP = "2/h"
    assert [post(client).status_code for _ in range(2)] == [302, 302]
    response = post(client, subject="Third try")
    assert response.status_code == 429
    html = response.content.decode()
    assert '<div class="error form-errors" role="alert">' in html and LIMITED in html
    assert 'value="Third try"' in html and "how do I sign up?" in html  # what was typed is kept
    assert OutboxMessage.objects.count() == 2
    assert post(client, remote_addr="192.0.2.11").status_code == 302  # another client is not held back
    assert any(key.startswith(b"formmail:rate:contact:192.0.2.10:") for key in rate_limit_redis.keys())


def test_the_overall_limit_holds_across_client_addresses(client, settings):
    settings.CONTACT_RATE_GLOBAL = "3/h"
    assert [post(client, remote_addr=f"198.51.100.{n}").status_code for n in range(1, 5)] == [302, 302, 302, 429]
    assert OutboxMessage.objects.count() == 3


def test_a_client_over_its_own_limit_does_not_use_up_everyones(client, settings):
    settings.CONTACT_RATE_PER_IP, settings.CONTACT_RATE_GLOBAL = "1/h", "3/h"
    assert [post(client).status_code for _ in range(10)] == [302] + [429] * 9
    assert [post(client, remote_addr=f"198.51.100.{n}").status_code for n in (1, 2)] == [302, 302]
    assert OutboxMessage.objects.count() == 3


def test_x_forwarded_for_counts_only_behind_a_trusted_proxy(client, settings):
    settings.CONTACT_RATE_PER_IP = "1/h"
    assert post(client, forwarded_for="203.0.113.1").status_code == 302
    # Not behind a proxy: a client cannot make itself a new one by writing the header.
    assert post(client, forwarded_for="203.0.113.2").status_code == 429
    settings.TRUSTED_PROXY_COUNT = 1
    assert post(client, forwarded_for="203.0.113.3").status_code == 302
    # Behind one proxy, what the client wrote to the left of what the proxy appended is not believed.
    assert post(client, forwarded_for="203.0.113.4, 203.0.113.3").status_code == 429
    assert post(client, forwarded_for="203.0.113.3, 203.0.113.5").status_code == 302


def test_with_redis_down_each_process_counts_in_memory_and_nothing_is_lost(client, settings, caplog):
    settings.RATE_LIMIT_REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    settings.CONTACT_RATE_PER_IP = "2/h"
    with caplog.at_level(logging.WARNING, logger="mailsite.formmail.ratelimit"):
        codes = [post(client).status_code for _ in range(3)]
    assert codes == [302, 302, 429]  # accepted while under the limit, which still holds in this process
    assert OutboxMessage.objects.count() == 2
    warnings = [r for r in caplog.records if "Redis did not answer" in r.getMessage()]
    assert len(warnings) == 1  # Redis is not asked again at once (each request would wait on it)


def test_redis_back_after_the_retry_delay_counts_there_again(client, settings, rate_limit_redis):
    settings.RATE_LIMIT_REDIS_RETRY_SECONDS = 0
    good = settings.RATE_LIMIT_REDIS_URL
    settings.RATE_LIMIT_REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"
    assert post(client).status_code == 302
    settings.RATE_LIMIT_REDIS_URL = good
    assert post(client).status_code == 302
    assert any(key.startswith(b"formmail:rate:contact:") for key in rate_limit_redis.keys())
