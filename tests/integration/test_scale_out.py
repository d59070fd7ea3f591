"""Scale-out: 4 worker processes on 2 hostnames (`-n worker1@hostA` …) and one beat drain the spool into
Postfix's smtp-sink while one worker is SIGKILLed half-way. Nothing is lost, and the kill costs at most one
duplicate (the RFC 1047 window: the relay said 250 and the worker died before keeping its receipt), counted by
Message-ID at the sink. bench/scale_out.py runs the same with 20,000 messages on PostgreSQL.

SCALE_OUT_QUEUED changes the size (default 2,000)."""
import os

import pytest

from tests.fixtures.celery_worker import worker_env
from tests.fixtures.scale_out import LEASE_SECONDS, Cluster, drain_with_one_kill, enqueue_site_mail
from tests.fixtures.spool import WORKER_SETTINGS

pytestmark = pytest.mark.django_db(transaction=True)

QUEUED = int(os.environ.get("SCALE_OUT_QUEUED", "2000"))


def test_four_workers_on_two_hosts_lose_nothing_when_one_is_killed(redis, mail_sandbox, smtp_sink, tmp_path,
                                                                    fault_counts):
    sink = smtp_sink()
    env = worker_env(redis_url=redis.url, sandbox=mail_sandbox,
                     **{**WORKER_SETTINGS, "SPOOL_LEASE_SECONDS": LEASE_SECONDS, "EMAIL_PORT": str(sink.port)})
    rows = enqueue_site_mail(QUEUED)
    cluster = Cluster(env=env, work=tmp_path, workers=4, hosts=2)
    cluster.start()
    try:
        counts, problem = drain_with_one_kill(cluster=cluster, sink=sink, rows=rows, timeout=300)
    finally:
        cluster.stop()
    assert counts, problem
    fault_counts(counts.line())
    assert not counts.lost, counts.line()
    assert counts.duplicates <= counts.killed, counts.line()
    assert {w.name for w in cluster.workers} == {"worker1@hostA", "worker2@hostA", "worker3@hostB", "worker4@hostB"}
