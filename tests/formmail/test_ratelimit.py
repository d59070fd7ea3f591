"""The rate limits: "<count>/<period>" parsed, windows counted in Redis with an expiry, a Redis that does not
answer given up after a short timeout, the client's address."""
import logging
import socket
import threading

import pytest
from django.test import RequestFactory

from mailsite.formmail import ratelimit
from mailsite.formmail.client import client_address
from mailsite.formmail.ratelimit import Rate, rate_limit_hit, rate_parse


@pytest.mark.parametrize("text, rate", [("5/h", Rate(5, 3600)), ("200/h", Rate(200, 3600)), ("20/10m", Rate(20, 600)),
                                        (" 1 / d ", Rate(1, 86400)), ("3/s", Rate(3, 1))])
def test_rates_are_parsed(text, rate):
    assert rate_parse(text) == rate


@pytest.mark.parametrize("text", ["", "5", "5/w", "five/h", "5/0m", "-1/h", "5/h/2"])
def test_a_bad_rate_is_refused_saying_what_one_looks_like(text):
    with pytest.raises(ValueError, match="'<count>/<period>'"):
        rate_parse(text)


def test_a_window_counts_in_redis_and_expires_with_it(rate_limit_redis):
    rate = Rate(2, 600)
    assert [rate_limit_hit(scope="test", ident="192.0.2.1", rate=rate) for _ in range(3)] == [False, False, True]
    [key] = rate_limit_redis.keys("formmail:rate:test:192.0.2.1:*")
    assert int(rate_limit_redis.get(key)) == 3
    assert 0 < rate_limit_redis.ttl(key) <= 601


def test_the_next_window_starts_again(rate_limit_redis, monkeypatch):
    rate = Rate(1, 60)
    now = 1_000_000 * 60
    monkeypatch.setattr(ratelimit.time, "time", lambda: now + 59)
    assert [rate_limit_hit(scope="test", ident="a", rate=rate) for _ in range(2)] == [False, True]
    monkeypatch.setattr(ratelimit.time, "time", lambda: now + 60)
    assert rate_limit_hit(scope="test", ident="a", rate=rate) is False


def test_the_memory_fallback_starts_again_in_the_next_window(settings, monkeypatch):
    settings.RATE_LIMIT_REDIS_URL = "redis://127.0.0.1:9/0"  # the discard port: nothing answers
    rate = Rate(1, 60)
    now = 2_000_000 * 60
    monkeypatch.setattr(ratelimit.time, "time", lambda: now)
    assert [rate_limit_hit(scope="test", ident="a", rate=rate) for _ in range(2)] == [False, True]
    monkeypatch.setattr(ratelimit.time, "time", lambda: now + 60)
    assert rate_limit_hit(scope="test", ident="a", rate=rate) is False


def request(remote="192.0.2.7", forwarded=None):
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **meta)


def test_the_client_is_remote_addr_unless_behind_trusted_proxies(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_address(request(forwarded="203.0.113.9")) == "192.0.2.7"
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_address(request(forwarded="198.51.100.1, 203.0.113.9")) == "203.0.113.9"
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_address(request(forwarded="198.51.100.1, 203.0.113.9, 10.0.0.2")) == "203.0.113.9"
    assert client_address(request(forwarded="")) == "192.0.2.7"  # fewer entries than proxies: the socket's


def test_an_ipv6_client_is_counted_by_its_64_and_a_mapped_ipv4_as_ipv4(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_address(request("2001:db8:1:2:aaaa::1")) == client_address(request("2001:db8:1:2:bbbb::2")) == (
        "2001:db8:1:2::/64")
    assert client_address(request("::ffff:192.0.2.1")) == "192.0.2.1"
    assert client_address(request("garbage")) == "unknown"


@pytest.fixture
def silent_server():
    """A TCP server that accepts connections and never says a word (a hung Redis)."""
    server = socket.create_server(("127.0.0.1", 0))
    server.listen(8)
    held = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def test_a_redis_that_never_answers_is_given_up_after_the_timeout(settings, silent_server, caplog):
    settings.RATE_LIMIT_REDIS_URL = f"redis://127.0.0.1:{silent_server}/0"
    settings.RATE_LIMIT_REDIS_TIMEOUT = 0.2
    with caplog.at_level(logging.WARNING, logger="mailsite.formmail.ratelimit"):
        assert [rate_limit_hit(scope="test", ident="a", rate=Rate(1, 60)) for _ in range(2)] == [False, True]
    assert "Redis did not answer (Timeout" in caplog.text
    kwargs = ratelimit._redis().connection_pool.connection_kwargs
    assert kwargs["socket_timeout"] == kwargs["socket_connect_timeout"] == 0.2
