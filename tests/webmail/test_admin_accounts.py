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


# --- Passwords: write-only for staff who may change accounts, absent for staff who may only view them.

def _staff(*perms):
    from django.contrib.auth.models import Permission
    user = get_user_model().objects.create_user("staff", "staff@example.test", "pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=perms))
    return user


def _secret_traces(html: str, account) -> list[str]:
    """What of the stored passwords (as typed or as stored) the page holds."""
    from django.db import connection
    with connection.cursor() as cursor:
        cursor.execute("SELECT incoming_password, smtp_password FROM webmail_mailaccount WHERE id = %s", [account.id])
        tokens = [t for t in cursor.fetchone() if t]
    return [s for s in [account.incoming_password, account.smtp_password, *tokens] if s and s in html]


def _with_smtp_password(account):
    account.smtp_username, account.smtp_password = "alice", "smtp-stored-secret"
    account.save()
    return MailAccount.objects.get(id=account.id)


def test_the_change_page_renders_no_stored_password(client, alice):
    account = _with_smtp_password(alice.mail_accounts.get())
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.test", "pw"))
    html = client.get(reverse("admin:mailboxes_mailaccount_change", args=[account.id])).content.decode()
    assert 'name="incoming_password"' in html and 'name="smtp_password"' in html
    assert "Leave empty to keep the stored password." in html
    assert _secret_traces(html, account) == []


def test_a_view_only_staff_user_sees_no_password_field_at_all(client, alice):
    account = _with_smtp_password(alice.mail_accounts.get())
    client.force_login(_staff("view_mailaccount"))
    response = client.get(reverse("admin:mailboxes_mailaccount_change", args=[account.id]))
    html = response.content.decode()
    assert response.status_code == 200 and account.address in html and account.incoming_username in html
    assert "incoming_password" not in html and "smtp_password" not in html
    assert "Incoming password" not in html and "SMTP password" not in html
    assert _secret_traces(html, account) == []


def test_empty_keeps_the_stored_passwords_and_typed_ones_replace_them(alice):
    account = _with_smtp_password(alice.mail_accounts.get())
    form = form_for(account, incoming_password="", smtp_password="", display_name="Alice A.")
    assert form.is_valid(), form.errors
    assert "incoming_password" not in form.changed_data
    form.save()
    kept = MailAccount.objects.get(id=account.id)
    assert (kept.display_name, kept.incoming_password, kept.smtp_password) == (
        "Alice A.", "mailbox-secret", "smtp-stored-secret")

    form = form_for(kept, incoming_password="new-pop", smtp_password="")
    assert form.is_valid(), form.errors
    form.save()
    assert MailAccount.objects.get(id=account.id).incoming_password == "new-pop"

    form = form_for(kept, smtp_username="", smtp_password="")  # no SMTP user name: no SMTP password either
    assert form.is_valid(), form.errors
    form.save()
    assert MailAccount.objects.get(id=account.id).smtp_password == ""


def test_a_stored_password_is_not_kept_for_another_server(alice):
    account = alice.mail_accounts.get()
    form = form_for(account, incoming_host="attacker.example.test", incoming_password="")
    assert not form.is_valid()
    assert form.errors["incoming_password"] == ["The server changed: enter the password again."]


def test_a_new_account_needs_its_incoming_password(alice):
    data = {k: v for k, v in model_to_dict(alice.mail_accounts.get()).items() if v is not None and k != "id"}
    data.update(imap_folders='["INBOX"]', incoming_password="")
    form = MailAccountForm(data)
    assert not form.is_valid() and form.errors["incoming_password"] == ["Enter the password."]
