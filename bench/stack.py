"""The scratch stack of the benchmarks that deliver through real workers: a work directory, a private Redis, a
recording smtp-sink (each message in a file, counted by Message-ID) and a throwaway PostgreSQL database on
BENCH_DATABASE_URL's server (default postgres://postgres@127.0.0.1:5432/postgres); Django set up on them.
Everything listens on 127.0.0.1 and is removed at the end."""
import base64
import contextlib
import os
import secrets
import shutil
import tempfile
from pathlib import Path

from bench.ingest import create_database
from tests.fixtures.net import free_port
from tests.fixtures.redis import RedisServer
from tests.fixtures.smtp_sink import SmtpSink


@contextlib.contextmanager
def scratch_stack(*, prefix: str, keep: bool, **environment):
    """Yields (work directory, sink) with Django set up on the stack; `environment` adds settings."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    os.chmod(work, 0o755)
    redis_server = RedisServer(port=free_port(), dir=str(work))
    redis_server.start()
    sink = SmtpSink(dump=True).start()
    database_url, drop = create_database(os.environ.get("BENCH_DATABASE_URL",
                                                        "postgres://postgres@127.0.0.1:5432/postgres"))
    try:
        os.environ.update(
            DJANGO_SETTINGS_MODULE="mailsite.settings", DATABASE_URL=database_url, REDIS_URL=redis_server.url,
            EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(sink.port), EMAIL_SECURITY="none", MEDIA_ROOT=str(work / "media"),
            DEBUG="false", SECRET_KEY="bench-only-" + secrets.token_hex(20), ALLOWED_HOSTS="localhost",
            FIELD_ENCRYPTION_KEYS=base64.urlsafe_b64encode(os.urandom(32)).decode(),
            SECURE_SSL_REDIRECT="false",  # (the load's clients speak plain HTTP to gunicorn, as a TLS proxy would)
            POLL_INTERVAL_SECONDS="3600", PYTHONUNBUFFERED="1", **environment,
        )
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        yield work, sink
    finally:
        drop()
        sink.cleanup()
        redis_server.stop()
        if keep:
            print(f"work directory: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
