"""The compose page in a real Chromium: the draft is saved as the user types (fetch with the CSRF token) and when
the page is left (a beacon); two files are sent; "Undo" takes the message back into compose."""
import re

import pytest

from mailsite.mailboxes.models import Draft
from spooler.models import OutboxMessage
from tests.fixtures.browser import login
from tests.fixtures.users import make_user
from tests.fixtures.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_drafts_are_saved_while_typing_and_on_leaving(live_server, browser_context):
    alice = make_user("alice")
    login(browser_context, live_server, alice)
    page = browser_context.new_page()
    page.goto(f"{live_server.url}/compose/")
    page.fill("#id_to", "bob@example.test, half@")  # not a valid address: kept all the same
    page.fill("#id_subject", "Autosaved")
    page.fill("#id_text", "First words")
    page.locator("#draft-status", has_text="Draft saved.").wait_for(timeout=15000)
    draft = Draft.objects.get(user=alice)
    assert (draft.to, draft.subject, draft.text) == ("bob@example.test, half@", "Autosaved", "First words")
    assert page.locator("#id_draft").input_value() == str(draft.id)

    page.fill("#id_text", "First words, and more")
    page.goto(f"{live_server.url}/drafts/")  # leaving the page: the beacon carries the last words
    assert wait_for(lambda: Draft.objects.get(id=draft.id).text == "First words, and more", timeout=10)
    assert Draft.objects.filter(user=alice).count() == 1
    assert page.locator("table.drafts", has_text="Autosaved").count() == 1


def test_two_files_sent_then_undone_back_into_compose(live_server, browser_context, settings, tmp_path):
    settings.UNDO_SEND_SECONDS = 600  # the test takes its time; the row waits
    alice = make_user("alice")
    login(browser_context, live_server, alice)
    (tmp_path / "one.txt").write_text("one")
    (tmp_path / "two.pdf").write_bytes(b"%PDF-1.4 two")
    page = browser_context.new_page()
    page.goto(f"{live_server.url}/compose/")
    page.fill("#id_to", "bob@example.test")
    page.fill("#id_bcc", "secret@example.test")
    page.fill("#id_subject", "With files")
    page.fill("#id_text", "See attached")
    page.set_input_files("#id_attachments", [str(tmp_path / "one.txt"), str(tmp_path / "two.pdf")])
    page.click("#compose-form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/outbox/")
    row = OutboxMessage.objects.get(subject="With files")
    assert row.recipients == ["bob@example.test", "secret@example.test"] and row.status == "queued"
    assert page.locator("form.undo-send button", has_text="Undo").count() == 1
    page.click("form.undo-send button")
    page.wait_for_url(re.compile(r".*/compose/\?draft=\d+$"))
    row.refresh_from_db()
    assert row.status == "cancelled"
    assert page.locator("#id_bcc").input_value() == "secret@example.test"
    assert page.locator("#id_subject").input_value() == "With files"
    assert page.locator("#id_text").input_value() == "See attached"
    assert not Draft.objects.filter(user=alice).exclude(subject="With files").exists()


def test_contacts_are_suggested_for_each_address_of_a_list(live_server, browser_context):
    from mailsite.mailboxes.models import Contact

    alice = make_user("alice")
    Contact.objects.create(user=alice, address="eve@example.test")
    Contact.objects.create(user=alice, address="frank@example.test")
    login(browser_context, live_server, alice)
    page = browser_context.new_page()
    page.goto(f"{live_server.url}/compose/")
    page.locator("#id_cc").press_sequentially("bob@example.test, ev")
    options = page.eval_on_selector_all("#contact-addresses option", "options => options.map(o => o.value)")
    assert options == ["bob@example.test, eve@example.test"]
