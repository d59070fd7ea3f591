"""The spool's metrics, read from the database at scrape time: exact whichever process or host did the work, and
nothing to lose when a worker dies. Every query is bounded (README, "Metrics and logs"):
- queue depth and the oldest due message: only waiting rows, through the (status, ...) indexes: their cost is the
  queue's length, not the history's;
- the counters: one GROUP BY over the attempt rows (joined on the primary key) and one over the bounced rows;
- the latency: only rows sent in the last METRICS_LATENCY_HOURS, through the finished_at index, bucketed in one
  SQL statement (sql/metrics.py).
"""
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Min, Q
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from mailsite.mailboxes.models import MailAccount
from spooler.models import DeliveryAttempt, OutboxMessage, OutboxStatus
from spooler.services.outbound.claims import due_rows
from spooler.services.outbound.relays import relay_labels
from spooler.services.sql import metrics as metrics_sql

# Rows still in the queue, one gauge each.
QUEUE_STATUSES = (OutboxStatus.QUEUED, OutboxStatus.DEFERRED, OutboxStatus.SENDING, OutboxStatus.HELD)
# Attempt outcomes, one counter each per relay ("sent" is a delivery).
ATTEMPT_OUTCOMES = (OutboxStatus.SENT, OutboxStatus.DEFERRED, OutboxStatus.FAILED, OutboxStatus.EXPIRED)
# Upper bounds (seconds) of the delivery latency buckets (commit, or the scheduled time, to the relay's 250).
LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 4 * 3600.0, 24 * 3600.0)


def queue_depth() -> dict[str, int]:
    """{status: rows} for the statuses of QUEUE_STATUSES, zero included."""
    return {status.value: OutboxMessage.objects.filter(status=status).count() for status in QUEUE_STATUSES}


def oldest_due_seconds(*, now=None) -> float:
    """How long the longest-waiting due row has been due (its retry or scheduled time passed), 0 when none is."""
    now = now or timezone.now()
    due_since = Greatest("next_attempt_at", Coalesce("not_before", "next_attempt_at"))
    oldest = due_rows(now).aggregate(m=Min(due_since))["m"]
    return max((now - oldest).total_seconds(), 0.0) if oldest else 0.0


def attempts_by_relay() -> dict[tuple[str, str], int]:
    """{(relay "host:port", outcome): attempts} since the spool began (rows deleted by an operator excepted)."""
    counts = (DeliveryAttempt.objects.order_by().values("message__relay_id", "outcome")
              .annotate(n=Count("id")))
    rows = list(counts)
    labels = relay_labels(r["message__relay_id"] for r in rows)
    result: dict[tuple[str, str], int] = {}
    for r in rows:
        key = (labels.get(r["message__relay_id"], "unknown"), r["outcome"])
        result[key] = result.get(key, 0) + r["n"]
    return result


def bounced_by_relay() -> dict[str, int]:
    """{relay "host:port": messages whose bounce notice was stored (or logged, for site mail)}."""
    rows = list(OutboxMessage.objects.filter(bounced_at__isnull=False).order_by().values("relay_id")
                .annotate(n=Count("id")))
    labels = relay_labels(r["relay_id"] for r in rows)
    result: dict[str, int] = {}
    for r in rows:
        label = labels.get(r["relay_id"], "unknown")
        result[label] = result.get(label, 0) + r["n"]
    return result


def delivery_latency(*, now=None) -> tuple[list[tuple[str, int]], float]:
    """Cumulative buckets [(le, rows)] ending with +Inf, and the sum in seconds, of the latency of the rows sent in
    the last METRICS_LATENCY_HOURS: from commit (or the scheduled time) to the relay's 250."""
    since = (now or timezone.now()) - timedelta(hours=settings.METRICS_LATENCY_HOURS)
    per_bucket = metrics_sql.sent_latency_buckets(since=since, bounds=LATENCY_BUCKETS)
    buckets, running = [], 0
    for i, le in enumerate([str(b) for b in LATENCY_BUCKETS] + ["+Inf"]):
        running += per_bucket.get(i, (0, 0.0))[0]
        buckets.append((le, running))
    return buckets, sum(total for _n, total in per_bucket.values())


def accounts_by_state() -> dict[str, int]:
    """{"ok": accounts whose last poll worked (or none yet), "failing": accounts whose last poll failed}."""
    counts = MailAccount.objects.aggregate(failing=Count("id", filter=Q(poll_failures__gt=0)), total=Count("id"))
    return {"ok": counts["total"] - counts["failing"], "failing": counts["failing"]}
