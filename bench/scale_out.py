"""Benchmark: scale-out with a crash. 4 Celery worker processes named on 2 hosts (`-n worker1@hostA`, `worker2@hostA`,
`worker3@hostB`, `worker4@hostB`, concurrency 1 each) and one beat of its own drain 20,000 messages from PostgreSQL
into Postfix's smtp-sink; once half of them are at the sink, one worker of hostB (one that took a delivery task) is
SIGKILLed with its pool process. Every message is counted at the sink by Message-ID:

    scale-out: queued=20000 received=… distinct=… duplicates=… killed=1 workers=4 hosts=2 seconds=…

Expected: distinct = queued (nothing lost) and duplicates <= killed (the RFC 1047 window: a 250 that arrived
before the killed process kept its receipt). `seconds` runs from the first wake-up to the last row recorded sent,
including the killed worker's lease (10 s) running out before the sweeper gives its rows to the others.

Starts its own Redis, smtp-sink, workers and beat (127.0.0.1 only, free ports) and a throwaway PostgreSQL database
on BENCH_DATABASE_URL's server (default postgres://postgres@127.0.0.1:5432/postgres), dropped at the end.
The same test with 2,000 messages: tests/integration/test_scale_out.py.

    .venv/bin/python bench/scale_out.py [--messages 20000] [--workers 4] [--hosts 2] [--keep]
"""
import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--messages", type=int, default=20_000)
parser.add_argument("--workers", type=int, default=4)
parser.add_argument("--hosts", type=int, default=2, choices=[1, 2, 3, 4])
parser.add_argument("--timeout", type=float, default=900, help="seconds to wait for the drain at most")
parser.add_argument("--keep", action="store_true", help="keep the work directory (logs) and print its path")
args = parser.parse_args()

from bench.stack import scratch_stack  # noqa: E402


def main() -> int:
    # (the lease: tests/fixtures/scale_out.py's LEASE_SECONDS, which needs Django set up to be imported)
    settings = dict(LOG_LEVEL="INFO", SPOOL_WAKE_COALESCE_SECONDS="0", SWEEP_INTERVAL_SECONDS="1",
                    SPOOL_RETRY_BASE_SECONDS="1", SPOOL_RETRY_MAX_SECONDS="2", SPOOL_LEASE_SECONDS="10")
    with scratch_stack(prefix="mailsite-scale-out-", keep=args.keep, **settings) as (work, sink):
        from tests.fixtures.scale_out import Cluster, drain_with_one_kill, enqueue_site_mail

        rows = enqueue_site_mail(args.messages)
        cluster = Cluster(env=dict(os.environ), work=work, workers=args.workers, hosts=args.hosts)
        cluster.start()
        try:
            counts, problem = drain_with_one_kill(cluster=cluster, sink=sink, rows=rows, timeout=args.timeout)
        finally:
            cluster.stop()
    if counts is None:
        print(f"scale-out: FAILED: {problem}", flush=True)
        return 1
    print(counts.line(), flush=True)
    if counts.lost:
        print(f"scale-out: LOST {len(counts.lost)}: {sorted(counts.lost)[:5]} …", flush=True)
    return 0 if not counts.lost and counts.duplicates <= counts.killed else 1


if __name__ == "__main__":
    sys.exit(main())
