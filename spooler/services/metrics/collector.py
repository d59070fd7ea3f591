"""The Prometheus collector behind /metrics: every value is computed when scraped (nothing is counted in this
process), so any number of web processes show the same numbers."""
from prometheus_client.core import (CounterMetricFamily, GaugeHistogramMetricFamily, GaugeMetricFamily,
                                    HistogramMetricFamily)
from prometheus_client.registry import Collector, CollectorRegistry

from spooler.services.metrics import poll_counters, spool_counts


class MailsiteCollector(Collector):
    def collect(self):
        yield from self.spool()
        yield from self.polls()

    def spool(self):
        depth = GaugeMetricFamily("mailsite_outbox_messages", "Messages in the outbound queue, per status.",
                                  labels=["status"])
        for status, n in spool_counts.queue_depth().items():
            depth.add_metric([status], n)
        yield depth
        yield GaugeMetricFamily("mailsite_outbox_oldest_due_age_seconds",
                                "Seconds since the longest-waiting due message became due (0: none is waiting).",
                                value=spool_counts.oldest_due_seconds())
        attempts = CounterMetricFamily("mailsite_outbox_attempts",
                                       "Delivery attempts per relay (host:port) and outcome: sent (delivered), "
                                       "deferred, failed, expired.", labels=["relay", "outcome"])
        for (relay, outcome), n in sorted(spool_counts.attempts_by_relay().items()):
            attempts.add_metric([relay, outcome], n)
        yield attempts
        bounced = CounterMetricFamily("mailsite_outbox_bounced",
                                      "Messages whose bounce notice was stored, per relay (host:port).",
                                      labels=["relay"])
        for relay, n in sorted(spool_counts.bounced_by_relay().items()):
            bounced.add_metric([relay], n)
        yield bounced
        buckets, total = spool_counts.delivery_latency()
        # A gauge histogram: the rows sent in a recent window (METRICS_LATENCY_HOURS), not a running count.
        yield GaugeHistogramMetricFamily("mailsite_outbox_delivery_latency_seconds",
                                         "Commit (or scheduled time) to the relay's 250, of the messages sent in "
                                         "the last METRICS_LATENCY_HOURS.", buckets=buckets, gsum_value=total)

    def polls(self):
        accounts = GaugeMetricFamily("mailsite_poll_accounts", "Mail accounts per state: ok, or failing (their "
                                     "last poll failed).", labels=["state"])
        for state, n in spool_counts.accounts_by_state().items():
            accounts.add_metric([state], n)
        yield accounts
        counts = poll_counters.poll_counts()
        if counts is None:  # (Redis unreachable: no poll counter rather than zeros)
            return
        runs = CounterMetricFamily("mailsite_poll_runs", "Poll runs, per state of the account when it started.",
                                   labels=["state"])
        errors = CounterMetricFamily("mailsite_poll_errors", "Poll runs that failed, per state of the account "
                                     "when it started.", labels=["state"])
        seconds = HistogramMetricFamily("mailsite_poll_duration_seconds", "Poll run durations, per state of the "
                                        "account when it started.", labels=["state"])
        for state in poll_counters.STATES:
            runs.add_metric([state], counts.get(f"runs:{state}", 0.0))
            errors.add_metric([state], counts.get(f"errors:{state}", 0.0))
            buckets, total = poll_counters.histogram(counts, state)
            seconds.add_metric([state], buckets, total)
        yield runs
        yield errors
        yield seconds
        yield CounterMetricFamily("mailsite_poll_messages_stored", "Messages stored by polls.",
                                  value=counts.get("stored", 0.0))


def registry() -> CollectorRegistry:
    """A registry with the collector alone (not the default one: no per-process metric that would differ from one
    web process to the next)."""
    reg = CollectorRegistry(auto_describe=False)
    reg.register(MailsiteCollector())
    return reg
