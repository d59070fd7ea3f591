"""spooler.sessions.replies: SMTP replies as session errors, shared by the plain and the pipelining session."""

import pytest

from spooler.sessions import PermanentError, RecipientsDeferred, RecipientsRefused, TransientError
from spooler.sessions.replies import every_recipient_refused, reply_error, sort_recipients

SERVER = "relay.example.test:25"


def test_reply_error_is_transient_for_a_4xx_and_permanent_otherwise():
    deferred = reply_error(451, "try later", SERVER, "message refused")
    refused = reply_error(554, "no", SERVER, "message refused")
    assert type(deferred) is TransientError and deferred.code == 451
    assert type(refused) is PermanentError and refused.code == 554
    assert str(refused) == f"mail server {SERVER} answered 554: message refused: no"


def test_recipients_are_sorted_by_their_reply_and_a_421_ends_the_session():
    accepted, refused = sort_recipients(["a@x.test", "b@x.test", "c@x.test"],
                                        [(250, b"ok"), (550, b"no such user"), (251, b"forwarded")], SERVER)
    assert accepted == ["a@x.test", "c@x.test"]
    assert refused == {"b@x.test": (550, "no such user")}
    with pytest.raises(TransientError) as info:
        sort_recipients(["a@x.test"], [(421, b"closing")], SERVER)
    assert info.value.code == 421


def test_every_recipient_refused_is_deferred_only_when_every_refusal_was_a_4xx():
    deferred = every_recipient_refused({"a@x.test": (450, "busy"), "b@x.test": (451, "later")}, SERVER)
    mixed = every_recipient_refused({"a@x.test": (450, "busy"), "b@x.test": (550, "unknown")}, SERVER)
    assert type(deferred) is RecipientsDeferred and deferred.code == 450
    assert type(mixed) is RecipientsRefused and set(mixed.refused) == {"a@x.test", "b@x.test"}
