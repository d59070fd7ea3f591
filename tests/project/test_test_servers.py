"""Servers started for tests stop by themselves when the test process dies, however it dies."""
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_smtp_sink_dies_with_a_killed_test_process():
    # As root smtp-sink switches to another user, which clears the parent-death signal (prctl(2)).
    script = ("import sys; from tests.fixtures.smtp_sink import SmtpSink\n"
              "sink = SmtpSink('-c').start(); print(sink.port, flush=True); sys.stdin.read()\n")
    child = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT)
    try:
        port = int(child.stdout.readline())
        assert _listening(port)
        child.send_signal(signal.SIGKILL)
        child.wait(5)
        deadline = time.monotonic() + 10
        while _listening(port) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _listening(port)
    finally:
        child.kill()
        child.wait()
        child.stdin.close()
        child.stdout.close()
