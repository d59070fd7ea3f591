"""Shared fixtures: real servers started on free ports, stopped after the session."""

pytest_plugins = [
    "tests.fixtures.sandbox",
    "tests.fixtures.redis",
    "tests.fixtures.celery_worker",
    "tests.fixtures.users",
    "tests.fixtures.smtp_sink",
    "tests.fixtures.smtp_servers",
    "tests.fixtures.browser",
]
