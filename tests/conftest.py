"""Shared fixtures: real servers started on free ports, stopped after the session; the fault tests' counts."""
import pytest

pytest_plugins = [
    "tests.fixtures.sandbox",
    "tests.fixtures.redis",
    "tests.fixtures.celery_worker",
    "tests.fixtures.users",
    "tests.fixtures.smtp_sink",
    "tests.fixtures.smtp_servers",
    "tests.fixtures.spool",
    "tests.fixtures.browser",
    "tests.fixtures.rate_limits",
]


# --- fault counts: one line per fault test, printed at the end of the run ---------------------------------

FAULT_COUNTS = "fault_counts"


@pytest.fixture
def fault_counts(record_property):
    """Report a fault test's counts, e.g. fault_counts("crash-loop: queued=… duplicates=…"): the line is printed in
    the run's summary (pytest-xdist hides a test's own output; user properties travel with its reports)."""

    def report(line: str) -> None:
        record_property(FAULT_COUNTS, line)
        print(line)

    return report


def pytest_terminal_summary(terminalreporter):
    lines = [value for reports in terminalreporter.stats.values() for report in reports
             if getattr(report, "when", None) == "call"
             for name, value in getattr(report, "user_properties", ()) if name == FAULT_COUNTS]
    if lines:
        terminalreporter.section("fault counts")
        for line in lines:
            terminalreporter.write_line(line)
