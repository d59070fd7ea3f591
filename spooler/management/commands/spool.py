"""`manage.py spool`: the outbound queue from a shell, in the spirit of Postfix's mailq and postsuper.

    spool list [--status S] [--limit N] [--json]   the queue (waiting messages by default; --all for every row)
    spool show ID [--json]                          one message: envelope, outcomes, attempts, headers
    spool hold ID...                                no delivery until released
    spool release ID...                             back into the queue
    spool requeue ID...                             deliver now (also failed or expired ones)
    spool cancel ID...                              give up on waiting messages
    spool flush                                     make every deferred message due now and wake the worker
"""
import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from spooler.models import OutboxMessage, OutboxStatus
from spooler.services.outbound import monitor, queue_ops
from spooler.services.outbound.bounce import original_headers

WAITING = [OutboxStatus.QUEUED, OutboxStatus.DEFERRED, OutboxStatus.SENDING, OutboxStatus.HELD]


def _iso(value):
    return value.isoformat() if value else None


def row_summary(row: OutboxMessage) -> dict:
    return {
        "id": row.id, "status": row.status, "subject": row.subject, "from": row.envelope_from,
        "recipients": row.recipients, "relay": str(row.relay) if row.relay_id else None,
        "attempts": row.attempts, "last_code": row.last_code, "last_text": row.last_text,
        "created_at": _iso(row.created_at), "not_before": _iso(row.not_before),
        "next_attempt_at": _iso(row.next_attempt_at), "sent_at": _iso(row.sent_at), "message_id": row.message_id,
    }


class Command(BaseCommand):
    help = "List, show and manage the outbound spool (hold, release, requeue, cancel, flush)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list", help="the queue")
        listing.add_argument("--status", choices=[s.value for s in OutboxStatus], action="append")
        listing.add_argument("--all", action="store_true", help="every row, not only waiting ones")
        listing.add_argument("--limit", type=int, default=1000)
        listing.add_argument("--json", action="store_true")
        show = sub.add_parser("show", help="one message")
        show.add_argument("id", type=int)
        show.add_argument("--json", action="store_true")
        for name, text in (("hold", "hold messages"), ("release", "release held messages"),
                           ("requeue", "deliver now"), ("cancel", "cancel waiting messages")):
            sub.add_parser(name, help=text).add_argument("ids", type=int, nargs="+", metavar="ID")
        sub.add_parser("flush", help="make deferred messages due now and wake the worker")

    def handle(self, *args, action, **options):
        return getattr(self, f"do_{action}")(**options) or None

    def do_list(self, *, status=None, all=False, limit=1000, json: bool = False, **_):
        rows = OutboxMessage.objects.select_related("relay").order_by("created_at", "id")
        if status:
            rows = rows.filter(status__in=status)
        elif not all:
            rows = rows.filter(status__in=WAITING)
        rows = list(rows[:limit])
        if json:
            self.stdout.write(_dumps({"messages": [row_summary(r) for r in rows], "counts": monitor.status_counts()}))
            return
        if not rows:
            self.stdout.write("Mail queue is empty")
            return
        self.stdout.write(f"{'ID':>8}  {'status':<9}  {'age':>12}  {'tries':>5}  sender → recipients")
        now = timezone.now()
        for r in rows:
            self.stdout.write(f"{r.id:>8}  {r.status:<9}  {monitor.human_age(now - r.created_at):>12}  {r.attempts:>5}  "
                              f"{r.envelope_from} → {', '.join(r.recipients)}")
            if r.last_text and r.status != OutboxStatus.SENT:
                self.stdout.write(f"{'':>8}  ({r.last_text[:200]})")
            if r.not_before and r.not_before > now:
                self.stdout.write(f"{'':>8}  scheduled for {r.not_before:%Y-%m-%d %H:%M:%S %Z}")
        counts = monitor.status_counts()
        self.stdout.write("-- " + ", ".join(f"{n} {s}" for s, n in counts.items() if n))

    def do_show(self, *, id, json: bool = False, **_):
        try:
            row = OutboxMessage.objects.select_related("relay").get(id=id)
        except OutboxMessage.DoesNotExist:
            raise CommandError(f"no outbox message {id}") from None
        attempts = [
            {"at": _iso(a.at), "outcome": a.outcome, "code": a.code, "text": a.text, "duration_ms": a.duration_ms,
             "refused": a.refused}
            for a in row.delivery_attempts.order_by("at", "id")
        ]
        headers = original_headers(bytes(row.body.raw)).decode("utf-8", "replace")
        if json:
            self.stdout.write(_dumps({**row_summary(row), "outcomes": row.outcomes, "attempt_list": attempts,
                                      "expires_at": _iso(row.expires_at), "headers": headers}))
            return
        for key, value in row_summary(row).items():
            self.stdout.write(f"{key:>16}: {value if value is not None else '—'}")
        self.stdout.write("recipients:")
        for rcpt in row.recipients:
            o = row.outcomes.get(rcpt) or {}
            self.stdout.write(f"  {rcpt}: {o.get('status', 'pending')} {o.get('code') or ''} {o.get('text', '')}".rstrip())
        self.stdout.write("attempts:")
        for a in attempts:
            self.stdout.write(f"  {a['at']}  {a['outcome']:<9} {a['code'] or '—'}  {a['duration_ms']} ms  {a['text']}")
        self.stdout.write("headers:")
        self.stdout.write(headers.rstrip())

    def _report(self, count, ids, what):
        self.stdout.write(f"{count} of {len(ids)} message{'s' if len(ids) != 1 else ''} {what}")

    def do_hold(self, *, ids, **_):
        self._report(queue_ops.outbox_hold(ids=ids), ids, "held")

    def do_release(self, *, ids, **_):
        self._report(queue_ops.outbox_release(ids=ids), ids, "released")

    def do_requeue(self, *, ids, **_):
        self._report(queue_ops.outbox_requeue(ids=ids), ids, "requeued")

    def do_cancel(self, *, ids, **_):
        self._report(queue_ops.outbox_cancel(ids=ids), ids, "cancelled")

    def do_flush(self, **_):
        self.stdout.write(f"{queue_ops.outbox_flush()} deferred messages due now; worker woken")


def _dumps(data) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)
