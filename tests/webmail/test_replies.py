"""The pure parts of replies and forwards: subjects, recipients, thread ids, quoting, signatures."""
from datetime import datetime, timezone

import pytest

from mailsite.webmail.compose import replies


@pytest.mark.parametrize("subject,expected", [
    ("Lunch", "Re: Lunch"),
    ("Re: Lunch", "Re: Lunch"),
    ("RE: Re: re:Lunch", "Re: Lunch"),
    ("Re[2]: Lunch", "Re: Lunch"),
    ("AW: Lunch", "Re: Lunch"),
    ("Fwd: Lunch", "Re: Fwd: Lunch"),
    ("", "Re:"),
    ("Lunch\r\nBcc: victim@example.test", "Re: Lunch Bcc: victim@example.test"),
    ("Are you there", "Re: Are you there"),  # "Are" is no prefix
])
def test_reply_subject_never_stacks(subject, expected):
    assert replies.reply_subject(subject) == expected


@pytest.mark.parametrize("subject,expected", [
    ("Lunch", "Fwd: Lunch"),
    ("Fwd: Lunch", "Fwd: Lunch"),
    ("FW: fwd: Lunch", "Fwd: Lunch"),
    ("Re: Lunch", "Fwd: Re: Lunch"),
    ("Fixed", "Fwd: Fixed"),
])
def test_forward_subject_never_stacks(subject, expected):
    assert replies.forward_subject(subject) == expected


def test_addresses_are_the_bare_addresses_without_repeats():
    assert replies.addresses('"Doe, John" <john@example.test>, carol@example.test, JOHN@example.test') == [
        "john@example.test", "carol@example.test"]
    assert replies.addresses("") == [] and replies.addresses("undisclosed-recipients:;") == []


def test_reply_goes_to_the_sender_only():
    to, cc = replies.reply_recipients(sender="Bob <bob@example.test>", to="alice@example.test, carol@example.test",
                                      cc="dan@example.test", own=["alice@example.test"], everyone=False)
    assert (to, cc) == (["bob@example.test"], [])


def test_reply_all_keeps_to_and_cc_without_the_users_own_addresses():
    to, cc = replies.reply_recipients(
        sender="Bob <bob@example.test>", to="Alice <ALICE@example.test>, carol@example.test",
        cc="dan@example.test, alice.work@example.test, bob@example.test",
        own=["alice@example.test", "alice.work@example.test"], everyone=True)
    assert to == ["bob@example.test", "carol@example.test"]
    assert cc == ["dan@example.test"]  # bob is already in To, alice's two addresses are hers


def test_replying_to_ones_own_message_answers_its_recipients():
    to, cc = replies.reply_recipients(sender="alice@example.test", to="bob@example.test", cc="",
                                      own=["alice@example.test"], everyone=False)
    assert to == ["bob@example.test"] and cc == []


def test_thread_ids_chain_references_and_the_original():
    in_reply_to, references = replies.thread_ids(
        message_id="<c@example.test>", references="<a@example.test> <b@example.test>", in_reply_to="<b@example.test>")
    assert in_reply_to == "<c@example.test>"
    assert references == ["<a@example.test>", "<b@example.test>", "<c@example.test>"]


def test_thread_ids_fall_back_on_in_reply_to_and_keep_the_root_when_cut():
    assert replies.thread_ids(message_id="<c@x.test>", references="", in_reply_to="<b@x.test>") == (
        "<c@x.test>", ["<b@x.test>", "<c@x.test>"])
    long = " ".join(f"<m{i}@x.test>" for i in range(40))
    _irt, references = replies.thread_ids(message_id="<last@x.test>", references=long)
    assert len(references) == replies.MAX_REFERENCES
    assert references[0] == "<m0@x.test>" and references[-1] == "<last@x.test>" and references[-2] == "<m39@x.test>"


def test_no_message_id_means_no_thread_headers():
    assert replies.thread_ids(message_id="", references="<a@x.test>") == ("", [])
    assert replies.thread_ids(message_id="garbage\r\nX: 1", references="") == ("", [])


def test_quoted_says_who_wrote_when_and_quotes_every_line():
    date = datetime(2026, 12, 1, 9, 30, tzinfo=timezone.utc)
    text = replies.quoted(text="Hello\r\n\r\n> earlier\nBye\n", sender="Bob <bob@example.test>", date=date)
    assert text == ("On Tue, 01 Dec 2026 at 09:30, Bob <bob@example.test> wrote:\n"
                    "> Hello\n>\n>> earlier\n> Bye\n")


def test_quoted_without_a_date_or_sender():
    assert replies.quoted(text="x", sender="", date=None) == "On an unknown date, someone wrote:\n> x\n"


def test_forwarded_inline_has_the_original_headers_and_text():
    text = replies.forwarded(text="Body\r\n", sender="Bob <bob@example.test>", date=None, subject="Hi",
                             to="alice@example.test", cc="carol@example.test")
    assert text.startswith("---------- Forwarded message ----------\nFrom: Bob <bob@example.test>\n")
    assert "Subject: Hi\nTo: alice@example.test\nCc: carol@example.test\n\nBody\n" in text


def test_signature_goes_after_the_dash_dash_space_line():
    assert replies.with_signature("", "Alice\r\nExample Ltd") == "\n\n-- \nAlice\nExample Ltd\n"
    assert replies.with_signature("\n\nOn …, Bob wrote:\n> Hi\n", "Alice") == "\n\nOn …, Bob wrote:\n> Hi\n\n-- \nAlice\n"
    assert replies.with_signature("Text", "") == "Text"


def test_attachment_name_is_a_safe_file_name():
    assert replies.attachment_name('Re: a/b "c"') == "Re_ a_b _c_.eml"
    assert replies.attachment_name("") == "message.eml"
