"""The set-up behind `make run` / `make test`: missing packages and busy ports give one clear line each."""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_as_nobody(cmd, env_extra):
    """Run cmd as an ordinary user (uid 65534) when we are root, else as ourselves."""
    env = {"PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "HOME": "/tmp", **env_extra}
    prefix = []
    if os.geteuid() == 0:
        prefix = [shutil.which("setpriv"), "--reuid=65534", "--regid=65534", "--clear-groups"]
    return subprocess.run(prefix + cmd, cwd="/tmp", env=env, capture_output=True, text=True, timeout=60)


@pytest.fixture
def open_dir():
    """A folder under /tmp an ordinary user can enter (pytest's own tmp dirs are 0700)."""
    path = Path(tempfile.mkdtemp(prefix="mailsite-setup-"))
    os.chmod(path, 0o777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_missing_package_without_root_prints_how_to_install_and_stops(open_dir):
    # A copy of the script in a folder the ordinary user can enter; it must stop before making a venv.
    work = open_dir
    (work / "scripts").mkdir(mode=0o777)
    shutil.copy(ROOT / "scripts" / "setup.sh", work / "scripts" / "setup.sh")
    result = run_as_nobody(
        ["bash", str(work / "scripts" / "setup.sh"), "run"],
        {"SETUP_EXTRA_PACKAGES": "mailsite-fake-package:/nonexistent/fake"},
    )
    assert result.returncode != 0
    assert (
        "setup: missing system package mailsite-fake-package; install it with: sudo apt-get install mailsite-fake-package"
        in result.stderr
    )
    assert not (work / ".venv").exists()


def preflight(env_extra):
    env = {**os.environ, **env_extra}
    return subprocess.run([sys.executable, "manage.py", "preflight"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)


@pytest.mark.parametrize("variable,service", [("WEB_PORT", "web"), ("DEVMAIL_POP3_PORT", "POP3"),
                                              ("DEVMAIL_SMTP_PORT", "SMTP")])
def test_busy_port_is_named_with_the_variable_that_changes_it(variable, service):
    from tests.fixtures.net import free_ports

    ports = dict(zip(["WEB_PORT", "DEVMAIL_SMTP_PORT", "DEVMAIL_POP3_PORT", "DEVMAIL_IMAP_PORT",
                      "DEVMAIL_POP3S_PORT", "DEVMAIL_IMAPS_PORT"], map(str, free_ports(6))))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", int(ports[variable])))
        busy.listen()
        result = preflight(ports)
    assert result.returncode != 0
    assert f"port {ports[variable]} ({service}) is already in use on 127.0.0.1; set {variable} to another port" in result.stderr


def test_preflight_passes_when_ports_are_free():
    from tests.fixtures.net import free_ports

    names = ["WEB_PORT", "DEVMAIL_SMTP_PORT", "DEVMAIL_POP3_PORT", "DEVMAIL_IMAP_PORT", "DEVMAIL_POP3S_PORT",
             "DEVMAIL_IMAPS_PORT"]
    result = preflight(dict(zip(names, map(str, free_ports(len(names))))))
    assert result.returncode == 0, result.stderr
