"""A database of a test's own, for the tests that migrate one from an older schema."""
import os
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest


@pytest.fixture
def database_url(tmp_path):
    """A database of this test's own, on the engine the suite runs on."""
    suite_url = os.environ.get("DATABASE_URL", "")
    if not suite_url.startswith(("postgres://", "postgresql://")):
        yield f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
        return
    import psycopg

    name = f"mailsite_migrated_{uuid.uuid4().hex[:12]}"
    parts = urlsplit(suite_url)
    with psycopg.connect(suite_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(suite_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
