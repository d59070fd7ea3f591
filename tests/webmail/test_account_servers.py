"""Which servers of an account are the user's own (typed in the account form, checked again at every connection)
and which the administrator's (used as they are): the form marks them, the admin's change unmarks them."""
import pytest
from django.contrib.auth import get_user_model
from django.forms.models import model_to_dict
from django.urls import reverse

from mailsite.mailboxes.models import ConnectionTest
from spooler.models import UserServers
from spooler.services import connection_test
from spooler.services.inbound import errors
from spooler.services.mail_hosts import account_server_typed, account_servers_mark
from tests.webmail.account_helpers import account_form_data
from tests.webmail.test_account_manage import new_account_data

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _hosts(settings):
    settings.MAIL_ALLOWED_HOSTS = ["127.0.0.1"]


def typed(account) -> dict:
    return {side: account_server_typed(account=account, side=side) for side in ("incoming", "smtp")}


def test_a_new_account_from_the_form_has_both_servers_typed(alice_client, alice):
    assert alice_client.post(reverse("webmail:account_add"), new_account_data()).status_code == 302
    assert typed(alice.mail_accounts.get(address="me@example.org")) == {"incoming": True, "smtp": True}
    assert typed(alice.mail_accounts.exclude(address="me@example.org").get()) == {"incoming": False, "smtp": False}


def test_a_changed_server_is_typed_an_unchanged_one_stays_the_administrators(alice_client, alice):
    account = alice.mail_accounts.get()  # set up by the administrator (make_user)
    response = alice_client.post(reverse("webmail:account_edit", args=[account.id]),
                                 account_form_data(account, display_name="Alice A."))
    assert response.status_code == 302 and typed(account) == {"incoming": False, "smtp": False}
    response = alice_client.post(reverse("webmail:account_edit", args=[account.id]),
                                 account_form_data(account, smtp_host="127.0.0.1", smtp_port="2525",
                                                   smtp_auth="none", smtp_username=""))
    assert response.status_code == 302, response.context["form"].errors
    assert typed(account) == {"incoming": False, "smtp": True}


def test_the_administrator_changing_a_server_in_the_admin_makes_it_theirs(client, alice):
    account = alice.mail_accounts.get()
    account_servers_mark(account=account, sides=["incoming", "smtp"])
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.test", "pw"))
    data = {k: v for k, v in model_to_dict(account).items() if v is not None}
    data.update(imap_folders='["INBOX"]', incoming_host="pop.internal.example")
    response = client.post(reverse("admin:mailboxes_mailaccount_change", args=[account.id]), data)
    assert response.status_code == 302
    assert UserServers.objects.filter(account=account, incoming=False, smtp=True).exists()


def test_a_connection_test_of_a_typed_server_checks_it_again(alice, settings, silent_server):
    account = alice.mail_accounts.get()
    account.incoming_host, account.incoming_port = "127.0.0.1", silent_server.port
    account.smtp_host, account.smtp_port = "127.0.0.1", silent_server.port
    account.save()
    account_servers_mark(account=account, sides=["incoming", "smtp"])
    settings.MAIL_ALLOWED_HOSTS = []  # tightened since the user saved it
    tried = {key: getattr(account, key) for key in connection_test.SETTINGS_KEYS}
    test = connection_test.connection_test_start(user=alice, settings_tried=tried, account=account)
    test = connection_test.connection_test_run(test_id=test.id)
    assert (test.incoming_result, test.smtp_result) == (errors.NOT_ALLOWED, errors.NOT_ALLOWED)
    assert not silent_server.accepted
    assert ConnectionTest.objects.get(id=test.id).status == "done"
