"""``manage.py devmail`` as a user runs it: a separate process, stopped by a signal."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fixtures.net import free_ports
from tests.fixtures.sandbox import sandbox_dir
from tests.spooler.sandbox.test_sandbox import dovecot_processes

ROOT = Path(__file__).resolve().parents[3]
NAMES = ["SMTP", "POP3", "IMAP", "POP3S", "IMAPS"]


@pytest.fixture
def devmail_env(tmp_path):
    with sandbox_dir(tmp_path, "devmail") as base_dir:
        ports = dict(zip(NAMES, free_ports(5)))
        env = dict(os.environ, DEVMAIL_DIR=str(base_dir), PYTHONUNBUFFERED="1")
        env.pop("DJANGO_SETTINGS_MODULE", None)
        for name, port in ports.items():
            env[f"DEVMAIL_{name}_PORT"] = str(port)
        yield env, ports, base_dir


def run_devmail(env) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "devmail"], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def read_banner(proc: subprocess.Popen) -> list[str]:
    lines = []
    for line in proc.stdout:
        lines.append(line.rstrip("\n"))
        if "Ctrl-C stops" in line:
            return lines
    raise AssertionError(f"devmail exited early: {lines} {proc.stderr.read()}")


def test_devmail_prints_each_service_and_stops_on_sigterm(devmail_env):
    env, ports, base_dir = devmail_env
    proc = run_devmail(env)
    try:
        banner = read_banner(proc)
        for name, port in ports.items():
            prefix = f"devmail: {name:<5} 127.0.0.1:{port} "
            assert any(line.startswith(prefix) for line in banner), banner
        with socket.create_connection(("127.0.0.1", ports["POP3"]), timeout=5) as sock:
            assert sock.recv(100).startswith(b"+OK")
        assert len(dovecot_processes(base_dir / "dovecot.conf")) == 1

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        proc.kill()
        proc.communicate()
    assert dovecot_processes(base_dir / "dovecot.conf") == []


def test_devmail_port_in_use_exits_2_naming_port_and_variable(devmail_env):
    env, ports, base_dir = devmail_env
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", ports["IMAPS"]))
        squatter.listen()
        proc = run_devmail(env)
        out, err = proc.communicate(timeout=30)

    assert proc.returncode == 2
    assert (f"port {ports['IMAPS']} (IMAPS) is already in use on 127.0.0.1; "
            "set DEVMAIL_IMAPS_PORT to another port") in err
    assert "Traceback" not in err
    assert dovecot_processes(base_dir / "dovecot.conf") == []


def test_devmail_exits_nonzero_when_dovecot_dies(devmail_env):
    env, ports, base_dir = devmail_env
    proc = run_devmail(env)
    try:
        read_banner(proc)
        master = int((base_dir / "run" / "master.pid").read_text())
        os.kill(master, signal.SIGKILL)
        assert proc.wait(10) == 1
        assert "dovecot exited unexpectedly" in proc.stderr.read()
    finally:
        proc.kill()
        proc.communicate()
    deadline = time.monotonic() + 5
    while dovecot_processes(base_dir / "dovecot.conf") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert dovecot_processes(base_dir / "dovecot.conf") == []
