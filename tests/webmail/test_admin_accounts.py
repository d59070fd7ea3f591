"""The admin's account form: the display name and the address go into every From, so they are checked there."""
import pytest
from django.contrib.auth import get_user_model
from django.forms.models import model_to_dict
from django.urls import reverse

from mailsite.webmail.admin import MailAccountForm
from mailsite.mailboxes.models import MailAccount

pytestmark = pytest.mark.django_db


def form_for(account, **changes):
    data = {k: v for k, v in model_to_dict(account).items() if v is not None}
    data["imap_folders"] = '["INBOX"]'
    data.update(changes)
    return MailAccountForm(data, instance=account)


@pytest.mark.parametrize("name", ["Alice\r\nBcc: victim@example.test", "Alice\nX", "A\u2028B", "A\x85B", "A\x0bB",
                                  "A\x0cB", "A\x00B", "A\x1bB"])
def test_line_breaks_and_controls_in_the_display_name_are_refused(alice, name):
    form = form_for(alice.mail_accounts.get(), display_name=name)
    assert not form.is_valid() and "display_name" in form.errors


@pytest.mark.parametrize("name,stored", [("Doe, John", "Doe, John"), ("Zoë\tÄrger", "Zoë Ärger"), ("", "")])
def test_display_names_people_have_are_kept(alice, name, stored):
    form = form_for(alice.mail_accounts.get(), display_name=name)
    assert form.is_valid(), form.errors
    assert form.save().display_name == stored


@pytest.mark.parametrize("address", ["jörg@example.test", '"a\x01"@example.test'])
def test_an_address_the_spool_cannot_send_from_is_refused(alice, address):
    form = form_for(alice.mail_accounts.get(), address=address)
    assert not form.is_valid() and "address" in form.errors


def test_the_admin_page_shows_the_error_beside_the_display_name(client, alice):
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.test", "pw"))
    account = alice.mail_accounts.get()
    data = {k: v for k, v in model_to_dict(account).items() if v is not None}
    data.update(imap_folders='["INBOX"]', display_name="Alice\u2028Bcc: victim@example.test")
    response = client.post(reverse("admin:mailboxes_mailaccount_change", args=[account.id]), data)
    assert response.status_code == 200
    assert "Line breaks and control characters are not allowed here" in response.content.decode()
    assert MailAccount.objects.get(id=account.id).display_name == "Alice"
