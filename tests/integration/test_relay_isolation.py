"""One relay that accepts TCP and never greets must not delay anyone else's mail: real worker processes (two pool
processes, beat), site mail through the project's EMAIL_BACKEND to a healthy smtp-sink, a silent relay for one
account. Judged by outcome: how many site messages took more than a second from commit to the relay's 250."""
import email
import statistics
import time

import pytest
from django.core.mail import send_mail

from spooler.models import OutboxMessage
from tests.fixtures.smtp_servers import SilentServer
from tests.fixtures.smtp_sink import SmtpSink
from tests.fixtures.waiting import wait_for
from tests.fixtures.spool import all_sent, enqueue_many, explain, sender_on

pytestmark = pytest.mark.django_db(transaction=True)

PROBES = 40
PROBE_EVERY = 0.25  # seconds: 10 s of site mail, through three down periods of the silent relay and its re-tries
LATE = 1.0  # seconds from commit to 250


def arrivals(sink: SmtpSink) -> dict[str, float]:
    """Subject -> when the relay had the whole message (its dump file was last written: the 250 follows it)."""
    found = {}
    for path in sink.dir.glob("*.*"):
        if path.name == "smtp-sink.log" or not path.stat().st_size:
            continue
        found[email.message_from_bytes(path.read_bytes())["Subject"]] = path.stat().st_mtime
    return found


def test_a_silent_relay_delays_no_other_mail_and_is_delivered_once_back(mail_sandbox, workers, settings,
                                                                        fault_counts):
    settings.EMAIL_BACKEND = "spooler.backend.EmailBackend"  # (pytest-django's default keeps mail in memory)
    settings.SPOOL_WAKE_COALESCE_SECONDS = 0
    site = SmtpSink(dump=True).start()
    silent = SilentServer()
    came_back = None
    try:
        # Three accounts send through the silent relay: three groups of rows, one relay.
        accounts = [sender_on(mail_sandbox, silent.port, name=f"stuck{n}")[1] for n in range(3)]
        stuck = [row for n, account in enumerate(accounts) for row in enqueue_many(account, 5, prefix=f"stuck{n}-")]
        worker = workers(concurrency=2, EMAIL_PORT=str(site.port), SPOOL_CONNECT_TIMEOUT="2", MAIL_TIMEOUT="2",
                         SPOOL_RELAY_DOWN_SECONDS="3")
        # The silent relay has been found silent once: from here on it comes due again and again.
        assert wait_for(lambda: OutboxMessage.objects.filter(id=stuck[0].id, status="deferred").exists(),
                        timeout=30), explain(stuck, worker)
        committed = {}
        for i in range(PROBES):
            send_mail(f"probe {i}", "site mail", "site@example.test", [f"p{i}@example.test"])
            committed[f"probe {i}"] = time.time()
            # People keep writing to the silent relay's domain meanwhile: its rows are always due somewhere.
            stuck += enqueue_many(accounts[i % len(accounts)], 1, prefix=f"later{i}-")
            time.sleep(PROBE_EVERY)
        assert wait_for(lambda: len(arrivals(site)) >= PROBES, timeout=30), explain(stuck, worker)
        got = arrivals(site)
        latency = sorted(max(got[subject] - at, 0.0) for subject, at in committed.items())
        late = sum(1 for seconds in latency if seconds > LATE)
        tries = len(silent.accepted)
        # The relay answers again: every one of its messages goes out, once.
        silent.stop()
        came_back = SmtpSink(dump=True, port=silent.port).start()
        assert wait_for(all_sent(stuck), timeout=60), explain(stuck, worker)
        assert came_back.wait_for_count(len(stuck), timeout=10) == len(stuck)
        delivered = came_back.message_ids()
        p95 = latency[int(0.95 * len(latency)) - 1]
        fault_counts(f"relay-isolation: probes={PROBES} late(>{LATE:g}s)={late} p50={statistics.median(latency):.3f}s "
                     f"p95={p95:.3f}s max={latency[-1]:.3f}s silent-relay connections={tries}; "
                     f"silent relay's mail: queued={len(stuck)} received={len(delivered)} distinct={len(set(delivered))}")
        assert late <= PROBES // 20, latency  # p95 under a second
        assert sorted(delivered) == sorted(r.message_id for r in stuck)
        assert "site mail" not in "".join(m.decode(errors="replace") for m in came_back.messages())  # (nothing mixed)
    finally:
        silent.stop()
        site.cleanup()
        if came_back:
            came_back.cleanup()

