"""Smoke test of `make run`, as a newcomer would try it (run by .ci/run; stdlib only).

Starts `make run` in its own process group with its output in a log file, waits for the login page and for
the Celery worker to say it is ready, logs in as alice through the real login form, sends a message to bob
through the compose form, logs in as bob, presses "Check now" and waits for the message in bob's inbox.
Then it stops everything with one SIGINT to the process group, as a terminal's Ctrl-C does, and checks that
no process of the group is left and that every port of `make run` is free again.

    .venv/bin/python scripts/smoke_run.py [--log var/smoke-run.log]

One line per step with the seconds since the start; on failure the tail of the log, and exit status 1.
"""
import argparse
import errno
import html
import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START_SECONDS = 180     # make run: set-up, migrations, then the site and the worker
MAIL_SECONDS = 120      # compose → worker → SMTP → Maildir → POP3 poll → bob's inbox
STOP_SECONDS = 60       # one SIGINT → every process gone
HTTP_TIMEOUT = 15

T0 = time.monotonic()


class SmokeError(Exception):
    pass


def step(text: str) -> None:
    print(f"smoke: [{time.monotonic() - T0:6.1f} s] {text}", flush=True)


def ports() -> dict[str, int]:
    """The ports of `make run`, from the same variables and defaults as the settings and scripts/run.sh."""
    env = os.environ
    return {
        "web (WEB_PORT)": int(env.get("WEB_PORT", "8000")),
        "SMTP (DEVMAIL_SMTP_PORT)": int(env.get("DEVMAIL_SMTP_PORT", "2525")),
        "POP3 (DEVMAIL_POP3_PORT)": int(env.get("DEVMAIL_POP3_PORT", "2110")),
        "IMAP (DEVMAIL_IMAP_PORT)": int(env.get("DEVMAIL_IMAP_PORT", "2143")),
        "POP3S (DEVMAIL_POP3S_PORT)": int(env.get("DEVMAIL_POP3S_PORT", "2995")),
        "IMAPS (DEVMAIL_IMAPS_PORT)": int(env.get("DEVMAIL_IMAPS_PORT", "2993")),
    }


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a TIME_WAIT does not count
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return False
            raise
    return True


def busy_ports() -> list[str]:
    return [f"{port} {name}" for name, port in ports().items() if not port_is_free(port)]


class Browser:
    """One cookie jar, like one browser profile. Follows redirects; Django's CSRF token from each form."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def request(self, path: str, data: dict | None = None) -> tuple[int, str, str]:
        """(status, final path, body) of a GET, or of a POST when data is given."""
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(self.base + path, data=body)
        if body is not None:
            # What a browser sends with a form post (Django checks Origin when it is present).
            req.add_header("Origin", self.base)
            req.add_header("Referer", self.base + path)
        try:
            with self.opener.open(req, timeout=HTTP_TIMEOUT) as response:
                return response.status, urllib.parse.urlsplit(response.url).path, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            return exc.code, urllib.parse.urlsplit(exc.url).path, exc.read().decode("utf-8", "replace")

    def get(self, path: str, expect: int = 200) -> tuple[str, str]:
        status, final, page = self.request(path)
        if status != expect:
            raise SmokeError(f"GET {path} answered {status} (at {final}):\n{page[:2000]}")
        return final, page

    def post(self, path: str, data: dict, page: str) -> tuple[str, str]:
        """POST the form of `page` (its CSRF token added) and expect a 200 after the redirects."""
        status, final, answer = self.request(path, {"csrfmiddlewaretoken": csrf_token(page), **data})
        if status != 200:
            raise SmokeError(f"POST {path} answered {status} (at {final}):\n{answer[:2000]}")
        return final, answer

    def log_in(self, username: str, password: str) -> str:
        _, form = self.get("/accounts/login/")
        final, page = self.post("/accounts/login/", {"username": username, "password": password, "next": "/"}, form)
        if final != "/":
            errors = re.findall(r'class="error">(.*?)<', page)
            raise SmokeError(f"logging in as {username} ended at {final}, not the inbox: {errors or page[:1000]}")
        return page


def csrf_token(page: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if not match:
        raise SmokeError(f"no csrfmiddlewaretoken in the page:\n{page[:1000]}")
    return match.group(1)


def flash_messages(page: str) -> list[str]:
    """The text of Django's messages on a page (base.html shows each as <p class="flash ...">)."""
    found = re.findall(r'<p class="flash[^"]*"[^>]*>(.*?)</p>', page, re.S)
    return [html.unescape(m).strip() for m in found]


def wait(what: str, predicate, seconds: float, process: subprocess.Popen, interval: float = 0.5):
    deadline = time.monotonic() + seconds
    while True:
        if process.poll() is not None:
            raise SmokeError(f"make run exited with status {process.returncode} while waiting for {what}")
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise SmokeError(f"no {what} after {seconds:.0f} s")
        time.sleep(interval)


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def group_processes(pgid: int) -> str:
    out = subprocess.run(["ps", "-o", "pid,ppid,stat,args", "-g", str(pgid)], capture_output=True, text=True)
    return out.stdout.strip()


def log_tail(log: Path, lines: int = 80) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


def smoke(process: subprocess.Popen, log: Path) -> None:
    base = f"http://127.0.0.1:{ports()['web (WEB_PORT)']}"
    pgid = process.pid

    def login_page():
        try:
            status, final, page = Browser(base).request("/")
        except (urllib.error.URLError, OSError):
            return None
        return status == 200 and final == "/accounts/login/" and "csrfmiddlewaretoken" in page

    wait("login page answering 200 at GET /", login_page, START_SECONDS, process)
    step(f"GET {base}/ answers 200 with the login page")

    ready = re.compile(r"^\S+ worker\.\d+\s+\|.*\bcelery@\S+ ready\.", re.M)
    wait('"celery@... ready." from the worker', lambda: ready.search(log.read_text(errors="replace")), START_SECONDS, process)
    step("the worker logged that it is ready")

    creds = json.loads((ROOT / "var" / "demo-credentials.json").read_text())
    subject = f"Smoke {uuid.uuid4().hex}"

    alice = Browser(base)
    alice.log_in("alice", creds["alice"])
    step("logged in as alice through the login form")

    _, form = alice.get("/compose/")
    account = re.search(r'<select name="account"[^>]*>.*?<option value="(\d+)"', form, re.S)
    if not account:
        raise SmokeError(f"no account to send from on alice's compose page:\n{form[:2000]}")
    final, page = alice.post("/compose/", {
        "account": account.group(1), "to": "bob@example.test", "cc": "", "subject": subject,
        "text": "Hello Bob, this is the smoke test of make run.",
    }, form)
    if final != "/outbox/":
        raise SmokeError(f"the compose form did not go to the outbox (at {final}):\n{page[:2000]}")
    step(f"alice sent {subject!r} to bob@example.test through the compose form ({'; '.join(flash_messages(page))})")

    def sent():
        # A message settled for every recipient leaves the Outbox for Sent (the outbox's ?view=sent).
        _, page = alice.get("/outbox/?view=sent")
        row = re.search(r"<tr[ >](?:(?!</tr>).)*" + re.escape(subject) + r"(?:(?!</tr>).)*</tr>", page, re.S)
        return row and "status-sent" in row.group(0)

    wait("'Sent' status in alice's Sent folder", sent, MAIL_SECONDS, process)
    step("alice's Sent folder shows it sent (the worker delivered it over SMTP)")

    bob = Browser(base)
    inbox = bob.log_in("bob", creds["bob"])
    step("logged in as bob (a separate cookie jar)")

    pressed = [0.0]

    def check_now(page: str) -> None:
        _, answer = bob.post("/check/", {}, page)
        pressed[0] = time.monotonic()
        step(f'bob pressed "Check now" ({"; ".join(flash_messages(answer)) or "no message shown"})')

    check_now(inbox)

    def arrived():
        _, page = bob.get("/")
        if subject in page:
            return True
        if time.monotonic() - pressed[0] > 15:  # the poll may have run before the mail reached the Maildir
            check_now(page)
        return False

    wait("message in bob's inbox", arrived, MAIL_SECONDS, process, interval=1)
    step("the message is in bob's inbox")


def stop(process: subprocess.Popen) -> None:
    pgid = process.pid
    os.killpg(pgid, signal.SIGINT)
    step("sent one SIGINT to make run's process group")
    try:
        process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        raise SmokeError(f"make run still running {STOP_SECONDS} s after SIGINT:\n{group_processes(pgid)}") from None
    step(f"make exited (status {process.returncode})")
    # Orphans of the group (if any) are reaped by init: give that a moment before calling them left over.
    deadline = time.monotonic() + 5
    while group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if group_alive(pgid):
        raise SmokeError(f"processes of make run's group are left after it exited:\n{group_processes(pgid)}")
    step("no process of the group is left")
    deadline = time.monotonic() + 5
    while busy_ports() and time.monotonic() < deadline:
        time.sleep(0.1)
    if busy_ports():
        raise SmokeError(f"ports still in use after make run stopped: {', '.join(busy_ports())}")
    step(f"ports {', '.join(str(p) for p in ports().values())} are free")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--log", default=str(ROOT / "var" / "smoke-run.log"), help="make run's output")
    log = Path(parser.parse_args().log)
    log.parent.mkdir(parents=True, exist_ok=True)

    busy = busy_ports()
    if busy:
        print(f"smoke: ports of make run are already in use: {', '.join(busy)}", file=sys.stderr)
        return 1
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}  # honcho and its processes write straight to the log
    with open(log, "wb") as out:
        process = subprocess.Popen(["make", "run"], cwd=ROOT, stdin=subprocess.DEVNULL, stdout=out,
                                   stderr=subprocess.STDOUT, env=env, start_new_session=True)
    step(f"started make run (process group {process.pid}, log {log})")
    try:
        smoke(process, log)
        stop(process)
    except (SmokeError, OSError, ValueError, KeyError) as exc:
        print(f"smoke: FAILED after {time.monotonic() - T0:.1f} s: {type(exc).__name__}: {exc}", file=sys.stderr)
        print(f"smoke: the last lines of {log}:\n{log_tail(log)}", file=sys.stderr)
        return 1
    finally:
        if group_alive(process.pid):
            print(f"smoke: killing what is left of the group:\n{group_processes(process.pid)}", file=sys.stderr)
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(process.pid, sig)
                except ProcessLookupError:
                    break
                time.sleep(3)
            process.wait()
    step("make run passed the smoke test")
    return 0


if __name__ == "__main__":
    sys.exit(main())
