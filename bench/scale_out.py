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
import secrets
import shutil
import sys
import tempfile
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

from bench.ingest import create_database  # noqa: E402
from tests.fixtures.net import free_port  # noqa: E402
from tests.fixtures.redis import RedisServer  # noqa: E402
from tests.fixtures.smtp_sink import SmtpSink  # noqa: E402


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="mailsite-scale-out-"))
    os.chmod(work, 0o755)
    redis_server = RedisServer(port=free_port(), dir=str(work))
    redis_server.start()
    sink = SmtpSink(dump=True).start()  # (each message in a file: counted by Message-ID)
    database_url, drop = create_database(os.environ.get("BENCH_DATABASE_URL",
                                                        "postgres://postgres@127.0.0.1:5432/postgres"))
    os.environ.update(
        DJANGO_SETTINGS_MODULE="mailsite.settings", DATABASE_URL=database_url, REDIS_URL=redis_server.url,
        EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(sink.port), EMAIL_SECURITY="none", MEDIA_ROOT=str(work / "media"),
        LOG_LEVEL="INFO", DEBUG="false", SECRET_KEY="bench-only-" + secrets.token_hex(20), ALLOWED_HOSTS="localhost",
        SPOOL_WAKE_COALESCE_SECONDS="0", SWEEP_INTERVAL_SECONDS="1", POLL_INTERVAL_SECONDS="3600",
        SPOOL_RETRY_BASE_SECONDS="1", SPOOL_RETRY_MAX_SECONDS="2", PYTHONUNBUFFERED="1",
    )
    import django

    django.setup()
    from django.core.management import call_command

    from tests.fixtures.scale_out import LEASE_SECONDS, Cluster, drain_with_one_kill, enqueue_site_mail

    os.environ["SPOOL_LEASE_SECONDS"] = LEASE_SECONDS
    cluster = None
    try:
        call_command("migrate", verbosity=0)
        rows = enqueue_site_mail(args.messages)
        cluster = Cluster(env=dict(os.environ), work=work, workers=args.workers, hosts=args.hosts)
        cluster.start()
        counts, problem = drain_with_one_kill(cluster=cluster, sink=sink, rows=rows, timeout=args.timeout)
        if counts is None:
            print(f"scale-out: FAILED: {problem}", flush=True)
            return 1
        print(counts.line(), flush=True)
        ok = not counts.lost and counts.duplicates <= counts.killed
        if counts.lost:
            print(f"scale-out: LOST {len(counts.lost)}: {sorted(counts.lost)[:5]} …", flush=True)
        return 0 if ok else 1
    finally:
        if cluster is not None:
            cluster.stop()
        drop()
        sink.cleanup()
        redis_server.stop()
        if args.keep:
            print(f"work directory: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
