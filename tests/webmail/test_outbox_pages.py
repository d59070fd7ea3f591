"""Outbox (on its way, state live) and Sent (settled): the lists, the live JSON, one spooled message opened."""
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from mailsite.mailboxes.outgoing import OutgoingMail
from spooler.models import OutboxStatus, RecipientStatus
from spooler.services.outbound import outcomes
from spooler.services.outbound.enqueue import outbox_send

pytestmark = pytest.mark.django_db


def send(user, subject="Hello", to=("bob@example.test", "carol@example.test")):
    account = user.mail_accounts.get()
    return outbox_send(mail=OutgoingMail(sender=account.from_header, to=list(to), cc=[], subject=subject,
                                         text="The body\nline two"), relay=account, user=user)


def settle(row, **per_recipient):
    for address, (status, code, text) in per_recipient.items():
        row.outcomes[address] = outcomes.outcome(RecipientStatus(status), code, text)
    outcomes.settle(row, now=timezone.now())
    row.save()


def test_outbox_holds_what_is_on_its_way_and_sent_what_is_settled(alice_client, alice):
    send(alice, "waiting")
    done = send(alice, "done")
    settle(done, **{"bob@example.test": ("sent", 250, "ok"), "carol@example.test": ("sent", 250, "ok")})
    outbox = alice_client.get(reverse("webmail:outbox")).content.decode()
    sent = alice_client.get(reverse("webmail:outbox"), {"view": "sent"}).content.decode()
    assert "waiting" in outbox and ">done<" not in outbox
    assert ">done<" in sent and "waiting" not in sent


def test_the_live_state_names_the_server_s_words_and_the_next_try(alice_client, alice, bob, settings):
    settings.SPOOL_RETRY_BASE_SECONDS = 300
    row = send(alice)
    row.attempts = 1
    settle(row, **{"bob@example.test": ("sent", 250, "ok"), "carol@example.test": ("deferred", 451, "greylisted")})
    theirs = send(bob)
    data = alice_client.get(reverse("webmail:outbox_status"), {"ids": f"{row.id},{theirs.id},x"}).json()
    assert [m["id"] for m in data["messages"]] == [row.id]
    state = data["messages"][0]
    assert state["status"] == "deferred" and not state["settled"] and state["next_attempt_at"]
    assert "greylisted" in state["text"] and "(next try in 4\xa0minutes)" in state["text"]  # (timeuntil rounds down)
    assert {r["address"]: r["status"] for r in state["recipients"]} == {"bob@example.test": "sent",
                                                                          "carol@example.test": "deferred"}


def test_a_partly_refused_message_says_so(alice_client, alice):
    row = send(alice)
    settle(row, **{"bob@example.test": ("sent", 250, "ok"), "carol@example.test": ("failed", 550, "no such user")})
    state = alice_client.get(reverse("webmail:outbox_status"), {"ids": row.id}).json()["messages"][0]
    assert state["settled"] and state["text"] == "Sent, but not to every recipient"


def test_a_scheduled_message_says_when(alice_client, alice):
    row = send(alice)
    row.not_before = row.next_attempt_at = timezone.now() + timedelta(hours=2)
    row.save()
    state = alice_client.get(reverse("webmail:outbox_status"), {"ids": row.id}).json()["messages"][0]
    assert state["text"].startswith("Scheduled: sends in 1")


def test_a_sent_message_opens_with_its_delivery(alice_client, alice):
    row = send(alice, "Opened <b>")
    settle(row, **{"bob@example.test": ("sent", 250, "2.0.0 queued as X"),
                   "carol@example.test": ("failed", 550, "5.1.1 unknown")})
    page = alice_client.get(reverse("webmail:outbox_message", args=[row.id])).content.decode()
    assert "Opened &lt;b&gt;" in page and "The body\nline two" in page
    assert "2.0.0 queued as X" in page and "5.1.1 unknown" in page


def test_another_users_spooled_message_is_404(client, alice, bob):
    row = send(bob)
    client.force_login(alice)
    assert client.get(reverse("webmail:outbox_message", args=[row.id])).status_code == 404


def test_outbox_pages_by_keyset(alice_client, alice):
    rows = [send(alice, f"m{i}") for i in range(52)]
    first = alice_client.get(reverse("webmail:outbox"))
    assert first.context["page"].next_before == rows[2].id
    second = alice_client.get(reverse("webmail:outbox"), {"before": rows[2].id})
    assert [r.id for r in second.context["page"].rows] == [rows[1].id, rows[0].id]


def test_cancelled_is_in_neither_list(alice_client, alice):
    row = send(alice, "undone")
    row.status = OutboxStatus.CANCELLED
    row.save()
    for params in ({}, {"view": "sent"}):
        assert "undone" not in alice_client.get(reverse("webmail:outbox"), params).content.decode()
