"""Compose never answers 500: arbitrary text in every field and in the account's display name (Hypothesis).

Each example posts through the Django test client as alice (exceptions raised, so a 500 fails loudly) inside a
savepoint that is rolled back, so no row of one example is seen by the next. The answer is either the form again
(200) with an error beside a field and nothing queued, or a redirect (302) with one queued message whose headers
parse back to what was typed, with no header but the builder's own.
"""
import collections
import email
import email.policy
import ipaddress
import os
import re
from email.headerregistry import Address

import pytest
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spooler.models import OutboxMessage
from spooler.services.header_input import address_list_split
from spooler.services.outbound.enqueue import outbox_raw
from spooler.sessions import Email

pytestmark = pytest.mark.django_db

# Fixed examples in CI (derandomize); COMPOSE_EXAMPLES=5000 explores further, with fresh random examples.
EXAMPLES = int(os.environ.get("COMPOSE_EXAMPLES", "60"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize="COMPOSE_EXAMPLES" not in os.environ,
                    database=None, suppress_health_check=[HealthCheck.too_slow])

# --- strategies -----------------------------------------------------------------------------------------

# Everything str.splitlines() splits on, other C0/C1 controls, NUL, TAB, odd spaces and invisible characters, and
# the specials of address syntax.
HOSTILE = ("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029\x00\x01\x08\x1b\x1f\x7f\x80\x9f\t \xa0\u3000\u200b\u200e"
           "\u202e\ufeff" '"\\,;:<>()[]@.=?')
hostile_char = st.sampled_from(HOSTILE)
unicode_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=60)  # no surrogates: HTTP cannot
mixed_text = st.text(st.one_of(st.characters(exclude_categories=("Cs",)), hostile_char), max_size=60)


def spoil(value: str, at: int, ch: str) -> str:
    at %= len(value) + 1
    return value[:at] + ch + value[at:]


ATEXT = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~"
atom = st.text(st.sampled_from(ATEXT), min_size=1, max_size=8)
dot_atom = st.lists(atom, min_size=1, max_size=3).map(".".join)
quoted_local = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=10).map(
    lambda s: '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"')
utf8_local = st.text(st.sampled_from("äöüßé日本пр"), min_size=1, max_size=4)
local_part = st.one_of(dot_atom, dot_atom, dot_atom, quoted_local, quoted_local, utf8_local)  # (repeated: drawn more)
label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,6}[a-z0-9])?", fullmatch=True)
idn_label = st.text(st.sampled_from("abcäöüßéñ日本語пример"), min_size=1, max_size=6)
domain = st.one_of(
    st.lists(label, min_size=1, max_size=2).map(lambda labels: ".".join([*labels, "test"])),
    st.lists(idn_label, min_size=1, max_size=2).map(lambda labels: ".".join([*labels, "example"])),
    st.ip_addresses(v=4).map(lambda ip: f"[{ip}]"),
    st.ip_addresses(v=6).map(lambda ip: f"[IPv6:{ip}]"),
    st.ip_addresses(v=6).map(lambda ip: f"[{ip}]"),
)
address = st.builds(lambda local, dom: f"{local}@{dom}", local_part, domain)
spoiled_address = st.builds(spoil, address, st.integers(0, 100), hostile_char)
address_list = st.builds(
    lambda items, sep: sep.join(items),
    st.lists(st.one_of(address, address, address, address, spoiled_address), min_size=1, max_size=3),
    st.sampled_from([", ", ",", "; ", " , ", "\t,"]),
)
sendable_address = st.builds(lambda local, dom: f"{local}@{dom}", st.one_of(dot_atom, quoted_local.filter(
    lambda quoted: quoted != '""')), domain)
sendable_list = st.builds(lambda items, sep: sep.join(items), st.lists(sendable_address, min_size=1, max_size=3),
                          st.sampled_from([", ", ";", ","]))
injection = st.builds(lambda head, brk, tail: head + brk + tail, st.sampled_from(["Hi", "bob@example.test", ""]),
                      st.sampled_from(["\r\n", "\n", "\r", "\x0b", "\x0c", "\x85", "\u2028", "\u2029", "\x1c"]),
                      st.sampled_from(["Bcc: victim@example.test", "X-Evil: 1", " folded", ""]))

addresses = st.one_of(address_list, address_list, address_list, unicode_text, mixed_text, injection)
subjects = st.one_of(unicode_text, mixed_text, injection, st.just("=?utf-8?q?abc?="),
                     st.builds(spoil, unicode_text, st.integers(0, 60), hostile_char))
texts = st.one_of(unicode_text, mixed_text, st.text(max_size=2000), injection)
display_names = st.one_of(unicode_text, mixed_text, injection, st.sampled_from(
    ["Doe, John", 'Mallory "The Boss" <mallory@example.test>', "Zoë, Ärger", "a\\b", "(comment)", "=?utf-8?q?x?="]))


def account_values(own_id: int):
    return st.one_of(unicode_text, mixed_text, st.integers().map(str), st.just(str(own_id)), st.just(str(own_id)),
                     st.sampled_from([f" {own_id} ", f"{own_id}\x00", "9" * 30, "-1", "1e3", f"{own_id}.0"]))


# --- posting and checking -------------------------------------------------------------------------------

GOOD = {"to": "bob@example.test", "cc": "", "subject": "Hi", "text": "Hello"}
CONTROLS = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")


class _Rollback(Exception):
    pass


@pytest.fixture
def poster(alice):
    """alice's client; raise_request_exception (the default, said here): a 500 is an exception, failing the example."""
    client = Client(raise_request_exception=True)
    client.force_login(alice)
    client.user = alice
    return client


def compose(client, *, display_name=None, **fields):
    """Post the compose form with `fields` (the others good) and check the answer; nothing is kept."""
    try:
        with transaction.atomic():
            account = client.user.mail_accounts.get()
            if display_name is not None:
                if connection.vendor == "postgresql":
                    display_name = display_name.replace("\x00", "")  # a PostgreSQL row cannot hold NUL
                account.display_name = display_name
                account.save(update_fields=["display_name"])
            data = {"account": str(account.id), **GOOD, **fields}
            response = client.post(reverse("webmail:compose"), data)
            check(response, data, account)
            raise _Rollback(response.status_code)
    except _Rollback as done:
        return done.args[0]


def check(response, data, account):
    assert response.status_code in (200, 302), response.status_code
    if response.status_code == 200:
        errors = response.context["form"].errors
        assert errors, "the form came back without an error"
        content = response.content.decode()
        for name in errors:
            assert f'id="{name}-error"' in content  # beside its field
        assert not OutboxMessage.objects.exists()
        return
    assert response["Location"] == reverse("webmail:outbox")
    row = OutboxMessage.objects.get()
    raw = outbox_raw(row)
    check_headers(raw, data, account, row)


def check_headers(raw: bytes, data, account, row):
    head, sep, _body = raw.partition(b"\r\n\r\n")
    assert sep and raw.isascii()
    lines = head.split(b"\r\n")
    assert all(b"\r" not in line and b"\n" not in line and len(line) <= 998 for line in lines)
    names = [line.split(b":", 1)[0].decode().lower() for line in lines if not line[:1].isspace()]
    expected = {"from", "to", "subject", "date", "message-id", "mime-version", "content-type",
                "content-transfer-encoding"} | ({"cc"} if address_list_split(data["cc"]) else set())
    assert sorted(names) == sorted(expected)  # each once; nothing injected

    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["Subject"] == data["subject"].replace("\t", " ").strip(" ")
    sender = msg["From"].addresses
    name = " ".join(CONTROLS.sub(" ", account.display_name).split())  # on one line, as from_header makes it
    assert len(sender) == 1 and sender[0].addr_spec == account.address
    # The standard library keeps the folding space between two encoded words of a phrase (RFC 2047 6.2 drops it):
    # compared without spaces there, and exactly as the webmail's own parser reads it (which decodes a name twice,
    # so not for a name that holds "=?").
    assert sender[0].display_name.replace(" ", "") == name.replace(" ", "")
    assert "=?" in name or Email.parse(raw).sender_name == name
    sent = []
    for field in ("to", "cc"):
        typed = address_list_split(data[field])
        written = msg[field].addresses if typed else ()
        assert len(written) == len(typed)
        for typed_item, header_address in zip(typed, written, strict=True):
            assert same_address(typed_item, header_address), (typed_item, header_address)
        sent += [_mailbox(a) for a in written]
    # The envelope holds the same mailboxes (compared as the standard library reads them: its addr_spec drops the
    # quotes of a local part like "." that has no special character but is no dot-atom either).
    assert [_mailbox(Address(addr_spec=rcpt)) for rcpt in row.recipients] == list(dict.fromkeys(sent))
    lines = [line.decode() for line in data["text"].encode().splitlines()]  # CR, LF and CRLF: one line break
    assert msg.get_body(("plain",)).get_content() == "\r\n".join(lines) + "\r\n"


def same_address(typed: str, written: Address) -> bool:
    """The address typed and the one written in To/Cc are the same mailbox (read by the standard library)."""
    typed_address = Address(addr_spec=typed)
    if typed_address.username != written.username:
        return False
    want, got = typed_address.domain, written.domain
    if want.startswith("["):
        inner = want[1:-1]
        inner = inner[5:] if inner.lower().startswith("ipv6:") else inner
        got_ip = got[1:-1].removeprefix("IPv6:")
        return got.startswith("[") and ipaddress.ip_address(inner) == ipaddress.ip_address(got_ip)
    return want.encode("idna").decode("ascii") == got


def _mailbox(address: Address) -> tuple[str, str]:
    """(local part, domain) as the envelope compares them: domain case-blind, an address literal as written."""
    return address.username, address.domain if address.domain.startswith("[") else address.domain.lower()


# --- the properties ---------------------------------------------------------------------------------------


def explore(strategy, post) -> collections.Counter:
    """Run `post` on EXAMPLES values of `strategy`; the status codes seen, so a test can show it reached both."""
    seen = collections.Counter()

    @SETTINGS
    @given(strategy)
    def run(value):
        seen[post(value)] += 1

    run()
    return seen


def test_any_to(poster):
    seen = explore(addresses, lambda value: compose(poster, to=value))
    assert seen[200] and seen[302]


def test_any_cc(poster):
    seen = explore(addresses, lambda value: compose(poster, cc=value))
    assert seen[200] and seen[302]


def test_addresses_that_can_be_sent_arrive_as_typed(poster):
    fields = st.fixed_dictionaries({"to": sendable_list, "cc": st.one_of(st.just(""), sendable_list)})
    seen = explore(fields, lambda values: compose(poster, **values))
    assert set(seen) == {302}


def test_any_subject(poster):
    seen = explore(subjects, lambda value: compose(poster, subject=value))
    assert seen[200] and seen[302]


def test_any_text(poster):
    seen = explore(texts, lambda value: compose(poster, text=value))
    assert seen[302]  # any text is a body (NUL aside, which Django's CharField refuses)


def test_any_account_value(poster, bob):
    own, other = poster.user.mail_accounts.get().id, bob.mail_accounts.get().id
    seen = explore(st.one_of(account_values(own), st.just(str(other))), lambda value: compose(poster, account=value))
    assert seen[200] and seen[302]


def test_any_display_name(poster):
    seen = explore(display_names, lambda name: compose(poster, display_name=name[:200]))
    assert set(seen) == {302}  # whatever the row holds, compose works


def test_anything_everywhere(poster):
    fields = st.fixed_dictionaries({"to": addresses, "cc": addresses, "subject": subjects, "text": texts,
                                    "display_name": display_names.map(lambda name: name[:200])})
    seen = explore(fields, lambda values: compose(poster, **values))
    assert seen[200]
