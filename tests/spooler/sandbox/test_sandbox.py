"""The development mail sandbox against real clients: smtplib, poplib, imaplib."""

from __future__ import annotations

import imaplib
import os
import poplib
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import pytest

from spooler.sandbox import PortInUse, Sandbox, SandboxConfig, SandboxError
from spooler.sandbox.dovecot import group_members
from tests.fixtures.net import free_ports
from tests.fixtures.sandbox import sandbox_dir as make_sandbox_dir
from tests.fixtures.sandbox import start_sandbox

HOST = "127.0.0.1"
TIMEOUT = 10

MESSAGE = (
    "From: Alice <alice@example.test>\r\n"
    "To: someone@example.test\r\n"
    "Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: 8bit\r\n"
    "\r\n"
    "Grüße aus dem Sandkasten.\r\n"
    ".a line that starts with a dot\r\n"
    "..and one with two\r\n"
    "\r\n"
    "trailing blank line above\r\n"
).encode("utf-8")


def dovecot_processes(conf: Path) -> list[int]:
    """Pids of processes whose command line names this config file."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if str(conf).encode() in cmdline.split(b"\0"):
                pids.append(int(entry))
    return pids


def assert_nothing_listens(port: int) -> None:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is fine
        probe.bind((HOST, port))  # fails if anything listens


def pop3_login(sandbox: Sandbox, user, *, tls: bool = False) -> poplib.POP3:
    if tls:
        conn = poplib.POP3_SSL(HOST, sandbox.config.pop3s_port, timeout=TIMEOUT,
                               context=sandbox.ssl_context())
    else:
        conn = poplib.POP3(HOST, sandbox.config.pop3_port, timeout=TIMEOUT)
    conn.user(user.address)
    conn.pass_(user.password)
    return conn


def pop3_messages(sandbox: Sandbox, user) -> list[bytes]:
    conn = pop3_login(sandbox, user)
    try:
        count, _size = conn.stat()
        return [b"\r\n".join(conn.retr(i)[1]) + b"\r\n" for i in range(1, count + 1)]
    finally:
        conn.quit()


def smtp_send(sandbox: Sandbox, sender: str, rcpts: list[str], msg: bytes) -> dict:
    with smtplib.SMTP(HOST, sandbox.config.smtp_port, timeout=TIMEOUT) as smtp:
        return smtp.sendmail(sender, rcpts, msg)


# -- SMTP in, POP3 and IMAP out -------------------------------------------------------


def test_smtp_mail_shows_up_over_pop3_with_exact_bytes(mail_sandbox, sandbox_user):
    refused = smtp_send(mail_sandbox, "alice@example.test", [sandbox_user.address], MESSAGE)

    assert refused == {}
    expected = b"Return-Path: <alice@example.test>\r\n" + MESSAGE
    assert pop3_messages(mail_sandbox, sandbox_user) == [expected]


def test_smtp_mail_shows_up_over_imap_with_exact_bytes(mail_sandbox, sandbox_user):
    smtp_send(mail_sandbox, "alice@example.test", [sandbox_user.address], MESSAGE)

    imap = imaplib.IMAP4(HOST, mail_sandbox.config.imap_port, timeout=TIMEOUT)
    try:
        imap.login(sandbox_user.address, sandbox_user.password)
        typ, data = imap.select("INBOX", readonly=True)
        assert (typ, data) == ("OK", [b"1"])
        typ, data = imap.fetch("1", "(BODY.PEEK[])")
        assert typ == "OK"
        assert data[0][1] == b"Return-Path: <alice@example.test>\r\n" + MESSAGE
    finally:
        imap.logout()


def test_maildir_file_holds_the_message_and_belongs_to_the_mail_user(mail_sandbox, sandbox_user):
    smtp_send(mail_sandbox, "", [sandbox_user.address], MESSAGE)

    (path,) = (sandbox_user.maildir / "new").iterdir()
    assert path.read_bytes() == b"Return-Path: <>\r\n" + MESSAGE
    assert list((sandbox_user.maildir / "tmp").iterdir()) == []
    expected_uid = mail_sandbox.store.accounts.mail_uid
    assert path.stat().st_uid == expected_uid
    assert expected_uid != 0


def test_mail_for_another_domain_is_refused_with_550(mail_sandbox, sandbox_user):
    with pytest.raises(smtplib.SMTPRecipientsRefused) as excinfo:
        smtp_send(mail_sandbox, "alice@example.test", ["bob@elsewhere.test"], MESSAGE)

    code, text = excinfo.value.recipients["bob@elsewhere.test"]
    assert code == 550
    assert b"example.test" in text


def test_mixed_recipients_deliver_to_the_sandbox_one_only(mail_sandbox, sandbox_user):
    refused = smtp_send(mail_sandbox, "alice@example.test",
                        ["carol@elsewhere.test", sandbox_user.address], MESSAGE)

    assert refused == {"carol@elsewhere.test": (550, refused["carol@elsewhere.test"][1])}
    assert len(pop3_messages(mail_sandbox, sandbox_user)) == 1
    assert not (mail_sandbox.store.mail_root / "elsewhere.test").exists()


def test_unknown_user_of_the_sandbox_domain_is_refused_with_550(mail_sandbox):
    with pytest.raises(smtplib.SMTPRecipientsRefused) as excinfo:
        smtp_send(mail_sandbox, "alice@example.test", ["nobody-here@example.test"], MESSAGE)

    assert excinfo.value.recipients["nobody-here@example.test"][0] == 550


def test_smtp_auth_checks_the_sandbox_password(mail_sandbox, sandbox_user):
    with smtplib.SMTP(HOST, mail_sandbox.config.smtp_port, timeout=TIMEOUT) as smtp:
        with pytest.raises(smtplib.SMTPAuthenticationError):
            smtp.login(sandbox_user.address, sandbox_user.password + "x")
    with smtplib.SMTP(HOST, mail_sandbox.config.smtp_port, timeout=TIMEOUT) as smtp:
        code, _ = smtp.login(sandbox_user.address, sandbox_user.password)
        assert code == 235


def test_smtp_starttls_verifies_with_the_ca_file(mail_sandbox, sandbox_user):
    with smtplib.SMTP(HOST, mail_sandbox.config.smtp_port, timeout=TIMEOUT) as smtp:
        smtp.starttls(context=mail_sandbox.ssl_context())
        smtp.sendmail("alice@example.test", [sandbox_user.address], MESSAGE)
    assert len(pop3_messages(mail_sandbox, sandbox_user)) == 1


# -- TLS ------------------------------------------------------------------------------


def test_implicit_tls_ports_work_with_the_ca_file(mail_sandbox, sandbox_user):
    mail_sandbox.deliver(sandbox_user.address, MESSAGE)

    pop = pop3_login(mail_sandbox, sandbox_user, tls=True)
    try:
        assert pop.stat()[0] == 1
        assert pop.sock.version() in ("TLSv1.2", "TLSv1.3")
    finally:
        pop.quit()
    imap = imaplib.IMAP4_SSL(HOST, mail_sandbox.config.imaps_port, timeout=TIMEOUT,
                             ssl_context=mail_sandbox.ssl_context())
    try:
        imap.login(sandbox_user.address, sandbox_user.password)
        assert imap.select("INBOX") == ("OK", [b"1"])
    finally:
        imap.logout()


def test_a_given_certificate_and_ca_are_used(sandbox_dir, tmp_path):
    import trustme  # a dev requirement

    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1", "localhost")
    cert, key, ca_pem = tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "ca.pem"
    server.cert_chain_pems[0].write_to_path(str(cert))
    server.private_key_pem.write_to_path(str(key))
    ca.cert_pem.write_to_path(str(ca_pem))

    sandbox = start_sandbox(sandbox_dir, tls_cert=cert, tls_key=key, tls_ca=ca_pem)
    try:
        assert sandbox.ca_file == ca_pem
        assert not (sandbox_dir / "tls").exists()  # nothing generated
        pop = poplib.POP3_SSL(HOST, sandbox.config.pop3s_port, timeout=TIMEOUT,
                              context=ssl.create_default_context(cafile=str(ca_pem)))
        assert pop.getwelcome().startswith(b"+OK")
        pop.quit()
    finally:
        sandbox.stop()


@pytest.mark.parametrize("port_name", ["pop3s_port", "imaps_port"])
def test_implicit_tls_fails_verification_without_the_ca_file(mail_sandbox, port_name):
    context = ssl.create_default_context()  # the system's CAs only
    with socket.create_connection((HOST, getattr(mail_sandbox.config, port_name)), TIMEOUT) as raw:
        with pytest.raises(ssl.SSLCertVerificationError):
            context.wrap_socket(raw, server_hostname=HOST)


def test_pop3_stls_and_imap_starttls(mail_sandbox, sandbox_user):
    mail_sandbox.deliver(sandbox_user.address, MESSAGE)

    pop = poplib.POP3(HOST, mail_sandbox.config.pop3_port, timeout=TIMEOUT)
    try:
        pop.stls(context=mail_sandbox.ssl_context())
        assert isinstance(pop.sock, ssl.SSLSocket)
        pop.user(sandbox_user.address)
        pop.pass_(sandbox_user.password)
        assert pop.stat()[0] == 1
    finally:
        pop.quit()
    imap = imaplib.IMAP4(HOST, mail_sandbox.config.imap_port, timeout=TIMEOUT)
    try:
        imap.starttls(ssl_context=mail_sandbox.ssl_context())
        imap.login(sandbox_user.address, sandbox_user.password)
        assert imap.select("INBOX") == ("OK", [b"1"])
    finally:
        imap.logout()


# -- users ----------------------------------------------------------------------------


def test_wrong_password_fails_on_pop3_and_imap(mail_sandbox, sandbox_user):
    pop = poplib.POP3(HOST, mail_sandbox.config.pop3_port, timeout=TIMEOUT)
    pop.user(sandbox_user.address)
    with pytest.raises(poplib.error_proto, match="-ERR"):
        pop.pass_(sandbox_user.password + "wrong")
    pop.close()
    imap = imaplib.IMAP4(HOST, mail_sandbox.config.imap_port, timeout=TIMEOUT)
    with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
        imap.login(sandbox_user.address, sandbox_user.password + "wrong")
    imap.shutdown()


def test_users_added_in_quick_succession_can_log_in_at_once(mail_sandbox):
    # Dovecot re-reads a passwd-file at most once a second: a user added right
    # after another user's login must still be known.
    users = []
    for n in range(3):
        address = f"burst{n}-{time.time_ns()}@example.test"
        mail_sandbox.add_user(address, f"pw-{n}")
        user = type("U", (), {"address": address, "password": f"pw-{n}"})
        pop3_login(mail_sandbox, user).quit()
        users.append(user)
    assert len(users) == 3


def test_changed_password_takes_effect_on_the_next_login(mail_sandbox, sandbox_user):
    pop3_login(mail_sandbox, sandbox_user).quit()
    old = sandbox_user.password
    mail_sandbox.add_user(sandbox_user.address, "a-new-password")

    changed = type("U", (), {"address": sandbox_user.address, "password": "a-new-password"})
    pop3_login(mail_sandbox, changed).quit()
    stale = type("U", (), {"address": sandbox_user.address, "password": old})
    with pytest.raises(poplib.error_proto):
        pop3_login(mail_sandbox, stale)


def test_login_and_address_are_case_insensitive(mail_sandbox, sandbox_user):
    mail_sandbox.deliver(sandbox_user.address.upper(), MESSAGE)
    shouting = type("U", (), {"address": sandbox_user.address.upper(),
                              "password": sandbox_user.password})
    assert pop3_messages(mail_sandbox, shouting) == [MESSAGE]


def test_deliver_stores_exact_bytes_and_uidl_has_the_configured_format(mail_sandbox, sandbox_user):
    path = mail_sandbox.deliver(sandbox_user.address, MESSAGE)

    assert path.parent == mail_sandbox.maildir(sandbox_user.address) / "new"
    assert path.read_bytes() == MESSAGE
    pop = pop3_login(mail_sandbox, sandbox_user)
    try:
        _resp, listing, _ = pop.uidl()
    finally:
        pop.quit()
    (line,) = listing
    number, uidl = line.split()
    assert number == b"1"
    assert len(uidl) == 16 and int(uidl, 16) > 0  # %08Xu%08Xv


def test_pop3_dele_removes_the_delivered_file(mail_sandbox, sandbox_user):
    first = mail_sandbox.deliver(sandbox_user.address, MESSAGE)
    mail_sandbox.deliver(sandbox_user.address, MESSAGE + b"second\r\n")

    pop = pop3_login(mail_sandbox, sandbox_user)
    pop.dele(1)
    pop.quit()

    assert pop3_messages(mail_sandbox, sandbox_user) == [MESSAGE + b"second\r\n"]
    remaining = [p.name.split(":")[0] for d in ("new", "cur")
                 for p in (sandbox_user.maildir / d).iterdir()]
    assert first.name not in remaining and len(remaining) == 1


@pytest.mark.parametrize("address", [
    "../evil@example.test", "a/b@example.test", "a:b@example.test", "a b@example.test",
    "alice@elsewhere.test", "no-at-sign", "dot..dot@example.test",
])
def test_bad_addresses_are_rejected(mail_sandbox, address):
    with pytest.raises(ValueError):
        mail_sandbox.add_user(address, "secret")
    with pytest.raises(ValueError):
        mail_sandbox.deliver(address, MESSAGE)


# -- life cycle -----------------------------------------------------------------------


@pytest.fixture
def sandbox_dir(tmp_path):
    with make_sandbox_dir(tmp_path, "box") as path:
        yield path


def test_a_second_sandbox_runs_beside_the_first_and_stop_leaves_no_dovecot(
        mail_sandbox, sandbox_user, sandbox_dir):
    second = start_sandbox(sandbox_dir)
    try:
        pid = second.dovecot_pid
        assert dovecot_processes(second.conf_path) == [pid]
        second.add_user("solo@example.test", "pw")
        smtp_send(second, "x@example.test", ["solo@example.test"], MESSAGE)
        solo = type("U", (), {"address": "solo@example.test", "password": "pw"})
        assert pop3_messages(second, solo) == [b"Return-Path: <x@example.test>\r\n" + MESSAGE]
        # The session sandbox neither sees that user nor stopped working.
        with pytest.raises(poplib.error_proto):
            pop3_login(mail_sandbox, solo)
        pop3_login(mail_sandbox, sandbox_user).quit()
    finally:
        second.stop()

    assert dovecot_processes(second.conf_path) == []
    assert group_members(pid) == []
    assert not Path(f"/proc/{pid}").exists()
    for port in second.config.ports().values():
        with pytest.raises(OSError):
            socket.create_connection((HOST, port), timeout=1).close()
    second.stop()  # a second stop is harmless


def test_port_in_use_names_the_port_and_variable_and_starts_nothing(sandbox_dir):
    smtp, pop3, imap, pop3s, imaps = free_ports(5)
    config = SandboxConfig(base_dir=sandbox_dir, smtp_port=smtp, pop3_port=pop3,
                           imap_port=imap, pop3s_port=pop3s, imaps_port=imaps)
    with socket.socket() as squatter:
        squatter.bind((HOST, pop3))
        squatter.listen()
        sandbox = Sandbox(config)
        with pytest.raises(PortInUse) as excinfo:
            sandbox.start()

    assert str(excinfo.value) == (
        f"port {pop3} (POP3) is already in use on 127.0.0.1; set DEVMAIL_POP3_PORT to another port"
    )
    assert (excinfo.value.port, excinfo.value.env_var) == (pop3, "DEVMAIL_POP3_PORT")
    assert dovecot_processes(sandbox.conf_path) == []
    assert sandbox.dovecot_pid is None and not sandbox.started
    assert_nothing_listens(smtp)


def test_port_taken_after_the_check_still_raises_port_in_use_and_stops_everything(
        sandbox_dir, monkeypatch):
    # The race: the port is free when checked, taken when Dovecot binds it.
    from spooler.sandbox import sandbox as sandbox_module

    monkeypatch.setattr(sandbox_module, "ports_in_use", lambda config, keys=None: [])
    smtp, pop3, imap, pop3s, imaps = free_ports(5)
    sandbox = Sandbox(SandboxConfig(base_dir=sandbox_dir, smtp_port=smtp, pop3_port=pop3,
                                    imap_port=imap, pop3s_port=pop3s, imaps_port=imaps,
                                    port_env={"imaps_port": "MY_IMAPS"}))
    with socket.socket() as squatter:
        squatter.bind((HOST, imaps))
        squatter.listen()
        with pytest.raises(PortInUse) as excinfo:
            sandbox.start()

    assert str(excinfo.value) == (
        f"port {imaps} (IMAPS) is already in use on 127.0.0.1; set MY_IMAPS to another port"
    )

    assert dovecot_processes(sandbox.conf_path) == []
    assert_nothing_listens(smtp)  # the SMTP server started meanwhile was stopped


def test_dovecot_failing_to_start_raises_with_its_log(sandbox_dir, tmp_path):
    fake = tmp_path / "dovecot"
    fake.write_text("#!/bin/sh\necho 'Fatal: this dovecot is broken' >&2\nexit 89\n")
    fake.chmod(0o755)
    smtp, pop3, imap, pop3s, imaps = free_ports(5)
    sandbox = Sandbox(SandboxConfig(base_dir=sandbox_dir, smtp_port=smtp, pop3_port=pop3,
                                    imap_port=imap, pop3s_port=pop3s, imaps_port=imaps,
                                    dovecot_binary=fake))
    with pytest.raises(SandboxError, match="this dovecot is broken"):
        sandbox.start()
    assert not sandbox.started
    assert_nothing_listens(smtp)


def test_a_missing_protocol_package_is_named_with_its_install_command(sandbox_dir, tmp_path):
    (tmp_path / "sbin").mkdir()
    (tmp_path / "lib" / "dovecot").mkdir(parents=True)
    (tmp_path / "lib" / "dovecot" / "imap").touch()  # dovecot-imapd, but no dovecot-pop3d
    fake = tmp_path / "sbin" / "dovecot"
    fake.write_text("#!/bin/sh\nexit 1\n")
    fake.chmod(0o755)
    sandbox = Sandbox(SandboxConfig(base_dir=sandbox_dir, dovecot_binary=fake))

    with pytest.raises(SandboxError) as excinfo:
        sandbox.start()
    assert str(excinfo.value) == (
        "dovecot-pop3d is not installed: install it with 'sudo apt-get install dovecot-pop3d'"
    )


def test_config_refuses_two_services_on_one_port(tmp_path):
    with pytest.raises(ValueError, match="POP3 and SMTP both use port 2525"):
        SandboxConfig(base_dir=tmp_path, pop3_port=2525)


def test_dovecot_dies_with_a_killed_parent(sandbox_dir):
    ports = free_ports(5)
    script = (
        "import sys; from pathlib import Path\n"
        "from spooler.sandbox import Sandbox, SandboxConfig\n"
        "s, p, i, ps, is_ = map(int, sys.argv[2:])\n"
        "box = Sandbox(SandboxConfig(base_dir=Path(sys.argv[1]), smtp_port=s, pop3_port=p,"
        " imap_port=i, pop3s_port=ps, imaps_port=is_))\n"
        "box.start(); print(box.dovecot_pid, flush=True); sys.stdin.read()\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script, str(sandbox_dir), *map(str, ports)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=Path(__file__).parents[3],
    )
    try:
        pid = int(child.stdout.readline())
        assert group_members(pid) != []
        child.send_signal(signal.SIGKILL)
        child.wait(5)
        # Only the master gets the parent-death signal; it stops its children
        # in about a second.
        deadline = time.monotonic() + 10
        while group_members(pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert group_members(pid) == []
    finally:
        child.kill()
        child.wait()
        child.stdin.close()
        child.stdout.close()


def test_a_dovecot_left_by_a_killed_run_is_replaced_on_the_next_start(sandbox_dir):
    # Started from a thread, Dovecot gets no parent-death signal: killing the
    # parent leaves it running with our ports, as after a crash.
    ports = free_ports(5)
    script = (
        "import sys, threading; from pathlib import Path\n"
        "from spooler.sandbox import Sandbox, SandboxConfig\n"
        "s, p, i, ps, is_ = map(int, sys.argv[2:])\n"
        "box = Sandbox(SandboxConfig(base_dir=Path(sys.argv[1]), smtp_port=s, pop3_port=p,"
        " imap_port=i, pop3s_port=ps, imaps_port=is_))\n"
        "t = threading.Thread(target=box.start); t.start(); t.join()\n"
        "print(box.dovecot_pid, flush=True); sys.stdin.read()\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script, str(sandbox_dir), *map(str, ports)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=Path(__file__).parents[3],
    )
    try:
        stale = int(child.stdout.readline())
        child.send_signal(signal.SIGKILL)
        child.wait(5)
    finally:
        child.kill()
        child.wait()
        child.stdin.close()
        child.stdout.close()
    time.sleep(0.2)
    assert group_members(stale) != []  # the orphan still runs

    sandbox = Sandbox(SandboxConfig(base_dir=sandbox_dir, smtp_port=ports[0], pop3_port=ports[1],
                                    imap_port=ports[2], pop3s_port=ports[3], imaps_port=ports[4]))
    sandbox.start()
    try:
        assert group_members(stale) == []
        assert dovecot_processes(sandbox.conf_path) == [sandbox.dovecot_pid]
    finally:
        sandbox.stop()


def test_a_base_dir_closed_to_other_users_still_works(tmp_path):
    # pytest's tmp_path sits under /tmp/pytest-of-<user>, mode 0700. Run as root,
    # Dovecot's user cannot enter it: mail and users move to a dir it can reach.
    base_dir = tmp_path / "closed" / "devmail"
    base_dir.parent.mkdir()
    base_dir.parent.chmod(0o700)
    sandbox = start_sandbox(base_dir)
    try:
        data_dir = sandbox.data_dir
        if os.geteuid() == 0:
            assert data_dir != base_dir
            assert (base_dir / "mail").resolve() == data_dir / "mail"
        else:
            assert data_dir == base_dir
        sandbox.add_user("closed@example.test", "pw")
        smtp_send(sandbox, "x@example.test", ["closed@example.test"], MESSAGE)
        user = type("U", (), {"address": "closed@example.test", "password": "pw"})
        assert pop3_messages(sandbox, user) == [b"Return-Path: <x@example.test>\r\n" + MESSAGE]
    finally:
        sandbox.stop()
        if data_dir != base_dir:
            shutil.rmtree(data_dir)
