"""spooler.sessions.addresses: the strict address grammar the builder and the SMTP session send with."""

import pytest

from spooler.sessions.addresses import AddressError, parse_addr_spec, parse_mailbox, quote_local, split_address_list


@pytest.mark.parametrize("typed,sent", [
    ("bob@example.test", "bob@example.test"),
    ('"bob"@example.test', "bob@example.test"),  # the quotes were not needed: the same mailbox (RFC 5321 4.1.2)
    ('"john doe"@example.test', '"john doe"@example.test'),
    ('"a,b;c<d>"@example.test', '"a,b;c<d>"@example.test'),
    (r'"a\"b\\c"@example.test', r'"a\"b\\c"@example.test'),
    (r'"\b\o\b"@example.test', "bob@example.test"),  # quoted pairs of plain characters
    ('".bob"@example.test', '".bob"@example.test'),  # not a dot-atom: stays quoted
    ('"a..b"@example.test', '"a..b"@example.test'),
    ("o'brien+tag@example.test", "o'brien+tag@example.test"),
    ("bob@[127.0.0.1]", "bob@[127.0.0.1]"),
    ("bob@[IPv6:2001:db8::1]", "bob@[IPv6:2001:db8::1]"),
    ("bob@[ipv6:2001:DB8:0::1]", "bob@[IPv6:2001:db8::1]"),
    ("bob@[::1]", "bob@[IPv6:::1]"),  # a bare IPv6 gets the tag RFC 5321 4.1.3 asks for
    ("jo@exämple.test", "jo@xn--exmple-cua.test"),
    ("jo@bücher.example", "jo@xn--bcher-kva.example"),
    ("root@localhost", "root@localhost"),
])
def test_accepted_addresses_as_sent(typed, sent):
    assert parse_addr_spec(typed).addr_spec == sent


@pytest.mark.parametrize("typed,why", [
    ("", "needs an @"),
    ("bob", "needs an @"),
    ("@example.test", "nothing before the @"),
    ('""@example.test', "nothing before the @"),
    ("bob@", "no domain"),
    ("a b@example.test", "need quotes"),
    ("a..b@example.test", "need quotes"),
    ('"bob@example.test', "not closed"),
    ('"bob"x@example.test', "after a quoted local part"),
    ("jörg@example.test", "SMTPUTF8"),
    ('"jörg"@example.test', "SMTPUTF8"),
    ("bob@exa mple.test", "domain that is not valid"),
    ("bob@-example.test", "domain that is not valid"),
    ("bob@example..test", "domain that is not valid"),
    ("bob@example.test.", "domain that is not valid"),
    ("bob@127.0.0.1", "in brackets"),
    ("bob@[127.0.0.256]", "address literal"),
    ("bob@[127.1]", "address literal"),
    ("bob@[IPv6:fe80::1%eth0]", "address literal"),
    ("bob@[tag:whatever]", "address literal"),
    ("bob@[127.0.0.1", "address literal"),
    ("a" * 65 + "@example.test", "longer than 64"),
    ("bob@" + "a" * 250 + ".test", "domain that is not valid"),
    ("bobbobbob1@" + ".".join(["a" * 61] * 4) + ".tst", "longer than 254"),
    ("bob@example.test\r\nRCPT TO:<victim@example.test>", "control character"),
    ('"bob\r\nDATA"@example.test', "control character"),
    ('"bob\x00"@example.test', "control character"),
    ("bob\u2028@example.test", "control character"),
    ('"a\tb"@example.test', "control character"),
])
def test_refused_addresses_say_why(typed, why):
    with pytest.raises(AddressError, match=why):
        parse_addr_spec(typed)


def test_address_error_is_a_value_error():
    assert issubclass(AddressError, ValueError)


@pytest.mark.parametrize("local,written", [
    ("bob", "bob"), ("john doe", '"john doe"'), (".bob", '".bob"'), ('a"b', r'"a\"b"'), ("a\\b", r'"a\\b"'),
])
def test_quote_local_only_when_needed(local, written):
    assert quote_local(local) == written


@pytest.mark.parametrize("value,name,addr_spec", [
    ("bob@example.test", "", "bob@example.test"),
    ("<bob@example.test>", "", "bob@example.test"),
    ("Bob <bob@example.test>", "Bob", "bob@example.test"),
    ('"Doe, John" <john@example.test>', "Doe, John", "john@example.test"),
    ("Doe, John <john@example.test>", "Doe, John", "john@example.test"),  # one mailbox per value, by contract
    ('"a \\"b\\" <c>" <"x y"@example.test>', 'a "b" <c>', '"x y"@example.test'),
    ("=?utf-8?q?J=C3=B6rg?= <j@example.test>", "Jörg", "j@example.test"),
    ('"=?utf-8?q?J=C3=B6rg?=" <j@example.test>', "=?utf-8?q?J=C3=B6rg?=", "j@example.test"),  # quoted: as is
    ("A <bob@[IPv6:::1]>", "A", "bob@[IPv6:::1]"),
])
def test_parse_mailbox(value, name, addr_spec):
    mailbox = parse_mailbox(value)
    assert (mailbox.name, mailbox.addr_spec) == (name, addr_spec)


@pytest.mark.parametrize("value", [
    "a@example.test, b@example.test", "A <a@example.test>, B <b@example.test>", "A <a@example.test> trailing",
    "A <a@example.test>\r\nBcc: victim@example.test", "A\u2028B <a@example.test>", "a<b <a@example.test>",
])
def test_parse_mailbox_refuses_anything_but_one_mailbox(value):
    with pytest.raises(AddressError):
        parse_mailbox(value)


def test_split_address_list_respects_quotes_and_brackets():
    typed = ' "Doe, John"@example.test; b@[IPv6:2001:db8::1] ,, c@example.test,"a\\",b"@x.test '
    assert split_address_list(typed) == [
        '"Doe, John"@example.test', "b@[IPv6:2001:db8::1]", "c@example.test", '"a\\",b"@x.test']
    assert split_address_list(" , ;") == []
