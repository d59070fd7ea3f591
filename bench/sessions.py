"""Benchmark: POP3Session retrieve+parse against raw poplib RETR, same Dovecot, same run.

Starts a private sandbox (spooler.sandbox) on free ports under a temporary directory, drops 2,000
small messages into one Maildir, then times both loops in interleaved rounds (after one untimed
pass of each, so Dovecot's index and our imports are warm) and prints the median rate of each and
their ratio. BENCH_ROUNDS sets the number of rounds (default 5).

    .venv/bin/python bench/sessions.py
"""

import os
import pathlib
import poplib
import statistics
import shutil
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
from tests.fixtures.net import free_ports  # noqa: E402

from spooler.sandbox import Sandbox, SandboxConfig  # noqa: E402
from spooler.sessions import Email, POP3Session  # noqa: E402

MESSAGES = 2000
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 5))
ADDRESS, PASSWORD = "bench@example.test", "bench-secret"


def fill(sandbox):
    sandbox.add_user(ADDRESS, PASSWORD)
    for number in range(MESSAGES):
        msg = Email(sender="Alice Example <alice@example.test>", to=[ADDRESS], subject=f"Benchmark message {number}",
                    text=f"Hello,\n\nthis is small message number {number}.\n\n-- \nAlice\n")
        sandbox.deliver(ADDRESS, msg.to_bytes())


def raw_poplib(host, port):
    conn = poplib.POP3(host, port, timeout=30)
    conn.user(ADDRESS)
    conn.pass_(PASSWORD)
    start = time.perf_counter()
    for number in range(1, MESSAGES + 1):
        conn.retr(number)
    elapsed = time.perf_counter() - start
    conn.quit()
    return MESSAGES / elapsed


def pop3_session(host, port):
    with POP3Session(host, port, ADDRESS, PASSWORD, security="none", timeout=30) as session:
        start = time.perf_counter()
        count = sum(1 for message in session if message.subject)  # uidl + retrieve + parse, as the poller does
        elapsed = time.perf_counter() - start
    assert count == MESSAGES, count
    return MESSAGES / elapsed


def main():
    base = pathlib.Path(tempfile.mkdtemp(prefix="bench-sessions-"))
    smtp, pop3, imap, pop3s, imaps = free_ports(5)
    sandbox = Sandbox(SandboxConfig(base_dir=base, smtp_port=smtp, pop3_port=pop3, imap_port=imap,
                                    pop3s_port=pop3s, imaps_port=imaps))
    try:
        sandbox.start()
        fill(sandbox)
        host = sandbox.config.host
        raw_poplib(host, pop3)  # warm-up: Dovecot builds its index and cache on first access
        pop3_session(host, pop3)
        raw_rates, ours = [], []
        for _ in range(ROUNDS):
            raw_rates.append(raw_poplib(host, pop3))
            ours.append(pop3_session(host, pop3))
    finally:
        sandbox.stop()
        shutil.rmtree(base, ignore_errors=True)
    raw, mine = statistics.median(raw_rates), statistics.median(ours)
    print(f"raw poplib RETR: {raw:.0f} msg/s")
    print(f"POP3Session retrieve+parse: {mine:.0f} msg/s")
    print(f"ratio: {mine / raw:.2f} (target >= 0.5)")
    return 0 if mine / raw >= 0.5 else 1


if __name__ == "__main__":
    sys.exit(main())
