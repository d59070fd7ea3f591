"""Benchmark: what the HTTP API and the contact form add to the spool's own enqueue, measured in one run.

The baseline is `outbox_send` called directly (the row, its body, the wake-up on commit: what compose does). Against
it, through Django's test client (the whole request: middleware, bearer token, JSON validation, the spool row):

- POST /api/v1/messages without and with an Idempotency-Key (each a new key: its row is written with the message);
- the same key again (a replay: one lookup, no second message);
- POST /contact/ (CSRF, the form's checks, the rate limits, text and HTML rendered, the spool row).

Each figure is the median time of one send over BENCH_SENDS sends (default 300), the five kinds taken in turn so
that the machine's load weighs on all alike, in one process on a fresh SQLite
file (BENCH_DATABASE_URL for another database). Redis is not needed: the wake-ups go nowhere (broker errors are
logged and the sweeper would find the rows) and the rate limits count in memory when Redis does not answer.
Targets: an API send <= 3x the direct enqueue (HTTP, token and validation at most twice the enqueue's own cost);
with a new key <= 1.5x an API send without one; a replay <= 1x an API send (it writes nothing); the contact form
<= 4x the direct enqueue; the direct enqueue with the sending quota checked (limits never reached, the user's rows of
the run in its day) <= 1.5x the direct enqueue without.

    .venv/bin/python bench/api.py
"""
import base64
import logging
import os
import pathlib
import secrets
import statistics
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SENDS = int(os.environ.get("BENCH_SENDS", 300))
TEXT = "Hello,\n\n" + "A line of an ordinary message body, about as long as a real one. " * 20 + "\n\n-- \nBench\n"


def configure(tmp: pathlib.Path) -> None:
    os.environ.update(
        DJANGO_SETTINGS_MODULE="mailsite.settings", MEDIA_ROOT=str(tmp / "media"), LOG_LEVEL="ERROR",
        DATABASE_URL=os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{tmp / 'bench.sqlite3'}"),
        DEBUG="false", SECRET_KEY="bench-only-" + secrets.token_hex(16),
        FIELD_ENCRYPTION_KEYS=base64.urlsafe_b64encode(os.urandom(32)).decode(), ALLOWED_HOSTS="testserver",
        SECURE_SSL_REDIRECT="false",  # (the test client speaks plain HTTP)
        # Nothing answers here: a publish fails at once (logged), the limits count in memory.
        REDIS_URL="redis://127.0.0.1:1/0", RATE_LIMIT_REDIS_URL="redis://127.0.0.1:1/0",
        CONTACT_RATE_PER_IP="1000000/h", CONTACT_RATE_GLOBAL="1000000/h", SPOOL_WAKE_COALESCE_SECONDS="3600",
        # No sending quota while the sends are timed (0: not checked); its own cost is measured apart, at the end.
        SEND_QUOTA_MESSAGES_PER_HOUR="0", SEND_QUOTA_RECIPIENTS_PER_HOUR="0",
        SEND_QUOTA_MESSAGES_PER_DAY="0", SEND_QUOTA_RECIPIENTS_PER_DAY="0",
    )
    import django

    django.setup()
    logging.disable(logging.CRITICAL)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def medians_ms(fns: dict, n: int = SENDS) -> dict:
    """Each function's median time, the functions taken in turn (a, b, c, a, b, c, ...): a change of the machine's
    load during the run weighs on every figure alike, so their ratios hold."""
    for fn in fns.values():
        fn(-1)  # one untimed each (imports, first queries)
    times = {name: [] for name in fns}
    for i in range(n):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn(i)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) * 1000 for name, values in times.items()}


def main() -> None:
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="bench-api-"))
    configure(tmp)
    from django.contrib.auth import get_user_model
    from django.test import Client, override_settings

    from mailsite.api.services import api_token_create
    from mailsite.mailboxes.models import MailAccount
    from mailsite.mailboxes.outgoing import OutgoingMail
    from spooler.models import OutboxMessage
    from spooler.services.outbound.enqueue import outbox_send

    user = get_user_model().objects.create_user("bench", password="x")
    account = MailAccount.objects.create(
        user=user, address="bench@example.test", incoming_host="127.0.0.1", incoming_port=9,
        incoming_username="x", incoming_password="x", incoming_security="none", smtp_host="127.0.0.1", smtp_port=9,
        smtp_security="none")
    _token, secret = api_token_create(user=user, name="bench")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    payload = {"from": account.address, "to": ["someone@example.org"], "subject": "Bench", "text": TEXT,
               "attachments": [{"filename": "a.txt", "content_type": "text/plain",
                                "content_base64": base64.b64encode(b"x" * 2000).decode()}]}

    def direct(i):
        outbox_send(mail=OutgoingMail(sender=account.from_header, to=["someone@example.org"], subject="Bench",
                                      text=TEXT, attachments=[("a.txt", "text/plain", b"x" * 2000)]),
                    relay=account, user=user)

    quota_on = override_settings(SEND_QUOTA_MESSAGES_PER_HOUR=10**6, SEND_QUOTA_RECIPIENTS_PER_HOUR=10**6,
                                 SEND_QUOTA_MESSAGES_PER_DAY=10**6, SEND_QUOTA_RECIPIENTS_PER_DAY=10**6)

    def direct_quota(i):
        with quota_on:
            direct(i)

    def api_send(i):
        assert api.post("/api/v1/messages", payload, content_type="application/json").status_code == 202

    def api_keyed(i):
        response = api.post("/api/v1/messages", payload, content_type="application/json",
                            HTTP_IDEMPOTENCY_KEY=f"bench-{i}")
        assert response.status_code == 202

    replayed_ids = set()

    def api_replay(i):
        response = api.post("/api/v1/messages", payload, content_type="application/json",
                            HTTP_IDEMPOTENCY_KEY="bench-replayed")
        assert response.status_code == 202
        replayed_ids.add(response.json()["id"])

    visitor = Client()
    form = {"name": "Visitor", "email": "visitor@example.org", "subject": "Bench", "message": TEXT, "website": ""}

    def contact(i):
        assert visitor.post("/contact/", form).status_code == 302

    before = OutboxMessage.objects.count()
    figures = medians_ms({"direct": direct, "api send": api_send, "api send with a new Idempotency-Key": api_keyed,
                          "api replay of one key": api_replay, "contact form": contact,
                          "direct, sending quota checked": direct_quota})
    base = figures.pop("direct")
    # (name, its baseline's name, target ratio)
    targets = {"api send": ("direct", 3.0), "api send with a new Idempotency-Key": ("api send", 1.5),
               "api replay of one key": ("api send", 1.0), "contact form": ("direct", 4.0)}
    print(f"api bench: {SENDS} sends each, median per send; rows written {OutboxMessage.objects.count() - before}")
    print(f"  direct outbox_send (baseline): {base:.2f} ms")
    for name, ms in figures.items():
        if name not in targets:
            continue
        against, target = targets[name]
        ratio = ms / (base if against == "direct" else figures[against])
        print(f"  {name}: {ms:.2f} ms  ratio to {against} {ratio:.2f}  (target <= {target:g}: "
              f"{'met' if ratio <= target else 'MISSED'})")
    print(f"  messages from {SENDS + 1} posts with one key: {len(replayed_ids)} (expected 1)")
    quota_ratio = figures["direct, sending quota checked"] / base
    print(f"  direct outbox_send, sending quota checked (limits never reached): "
          f"{figures['direct, sending quota checked']:.2f} ms  ratio to direct {quota_ratio:.2f}  (target <= 1.5: "
          f"{'met' if quota_ratio <= 1.5 else 'MISSED'})")


if __name__ == "__main__":
    main()
