"""Reads for the queue monitor (admin) and `manage.py spool`: counts, ages, sent/failed per minute."""
from datetime import timedelta

from django.db.models import Count, Min
from django.db.models.functions import TruncMinute
from django.utils import timezone

from spooler.models import OutboxMessage, OutboxStatus

# Waiting for delivery (or being delivered right now).
WAITING = (OutboxStatus.QUEUED, OutboxStatus.DEFERRED, OutboxStatus.SENDING)


def status_counts() -> dict[str, int]:
    counts = {s.value: 0 for s in OutboxStatus}
    for row in OutboxMessage.objects.order_by().values("status").annotate(n=Count("id")):
        counts[row["status"]] = row["n"]
    return counts


def oldest_waiting_age(now=None) -> timedelta | None:
    """How long the oldest message still waiting for delivery has been in the queue (None if none waits)."""
    now = now or timezone.now()
    oldest = OutboxMessage.objects.filter(status__in=WAITING).aggregate(m=Min("created_at"))["m"]
    return now - oldest if oldest else None


def per_minute(*, minutes: int = 60, now=None) -> list[dict]:
    """[{"minute": datetime, "sent": n, "failed": n}] for each of the last `minutes` minutes, oldest first.
    Failed counts failed and expired messages, by the minute they reached that state."""
    now = (now or timezone.now()).replace(second=0, microsecond=0)
    start = now - timedelta(minutes=minutes - 1)
    buckets = {start + timedelta(minutes=i): {"sent": 0, "failed": 0} for i in range(minutes)}
    rows = (
        OutboxMessage.objects.filter(
            finished_at__gte=start, status__in=[OutboxStatus.SENT, OutboxStatus.FAILED, OutboxStatus.EXPIRED]
        )
        .annotate(minute=TruncMinute("finished_at"))
        .order_by()
        .values("minute", "status")
        .annotate(n=Count("id"))
    )
    for row in rows:
        bucket = buckets.get(row["minute"])
        if bucket is not None:
            bucket["sent" if row["status"] == OutboxStatus.SENT else "failed"] += row["n"]
    return [{"minute": minute, **counts} for minute, counts in sorted(buckets.items())]


def chart(*, minutes: int = 60, now=None, width: int = 720, height: int = 140) -> dict:
    """Geometry of a bar chart (sent above the axis, failed below) for a server-rendered SVG."""
    data = per_minute(minutes=minutes, now=now)
    peak = max([max(d["sent"], d["failed"]) for d in data] + [1])
    half = (height - 20) / 2
    step = width / len(data)
    bars = []
    for i, d in enumerate(data):
        sent_h = round(d["sent"] / peak * half, 1)
        failed_h = round(d["failed"] / peak * half, 1)
        bars.append({
            "x": round(i * step + 1, 1), "w": round(max(step - 2, 1), 1),
            "sent_y": round(10 + half - sent_h, 1), "sent_h": sent_h,
            "failed_y": round(10 + half, 1), "failed_h": failed_h,
            "minute": d["minute"], "sent": d["sent"], "failed": d["failed"],
        })
    return {
        "bars": bars, "width": width, "height": height, "axis_y": round(10 + half, 1), "peak": peak,
        "total_sent": sum(d["sent"] for d in data), "total_failed": sum(d["failed"] for d in data),
    }


def human_age(delta: timedelta | None) -> str:
    if delta is None:
        return "—"
    seconds = int(delta.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    if seconds < 86400:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    return f"{seconds // 86400} d {seconds % 86400 // 3600} h"
