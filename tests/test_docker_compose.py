"""docker-compose.yml is valid and describes the production-like stack (issue 2, item 8).

No Docker engine runs on our machines: `docker-compose config` (Debian package docker-compose, 1.29)
validates and renders the file without one. No database needed.
"""
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
SECRET = "test-secret-key-from-the-environment"
FIELD_KEY = "dGVzdC1maWVsZC1lbmNyeXB0aW9uLWtleS0zMmJ5dGU="
REQUIRED_SERVICES = {"postgres", "redis", "web", "worker", "beat", "mail"}
APP_SERVICES = ("web", "worker", "beat", "mail")


def _docker_compose() -> str:
    for candidate in ("/usr/bin/docker-compose", shutil.which("docker-compose")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    pytest.fail(
        "docker-compose not found (/usr/bin/docker-compose): this test validates docker-compose.yml "
        "with it. Install the Debian package: sudo apt-get install docker-compose"
    )


def _run(*args: str, secret_key: str | None, tmp_path: Path, field_key: str | None = FIELD_KEY,
         extra_env: dict | None = None) -> subprocess.CompletedProcess:
    """Run docker-compose on our file in a clean environment.

    An empty --env-file keeps a developer's .env out of it; only PATH, HOME, SECRET_KEY and FIELD_ENCRYPTION_KEYS
    are set.
    """
    env_file = tmp_path / "empty.env"
    env_file.write_text("")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
    if "HOME" in os.environ:
        env["HOME"] = os.environ["HOME"]
    if secret_key is not None:
        env["SECRET_KEY"] = secret_key
    if field_key is not None:
        env["FIELD_ENCRYPTION_KEYS"] = field_key
    env.update(extra_env or {})
    return subprocess.run(
        [_docker_compose(), "--env-file", str(env_file), "-f", str(COMPOSE_FILE), *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> str:
    """`docker-compose config` output (YAML) with SECRET_KEY set."""
    result = _run("config", secret_key=SECRET, tmp_path=tmp_path_factory.mktemp("compose"))
    assert result.returncode == 0, result.stderr
    return result.stdout


def _services(text: str) -> dict[str, str]:
    """{service name: its block of lines} from the `services:` mapping of rendered config."""
    match = re.search(r"^services:\n((?:[ ]{2,}.*\n|\n)*)", text, re.M)
    assert match, f"no services: mapping in\n{text}"
    blocks: dict[str, str] = {}
    name = None
    for line in match.group(1).splitlines():
        head = re.fullmatch(r"  ([A-Za-z0-9_.-]+):", line)
        if head:
            name = head.group(1)
            blocks[name] = ""
        elif name:
            blocks[name] += line + "\n"
    return blocks


def _key(block: str, key: str) -> str:
    """The lines of one top-level key of a service block (its value, inline or nested)."""
    match = re.search(rf"^    {key}:(.*\n(?:      .*\n|    - .*\n)*)", block, re.M)
    return match.group(1) if match else ""


def _words(value: str) -> list[str]:
    """A rendered command (a string or a list) as words."""
    words = []
    for line in value.splitlines():
        line = line.strip()
        if line.startswith("- "):
            line = line[2:]
        words += [w.strip("'\"") for w in line.split()]
    return words


def test_config_is_valid_with_secret_key(tmp_path):
    result = _run("config", "-q", secret_key=SECRET, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr


def test_missing_secret_key_is_a_clear_error(tmp_path):
    result = _run("config", "-q", secret_key=None, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "set SECRET_KEY" in result.stderr


def test_missing_field_encryption_keys_is_a_clear_error(tmp_path):
    result = _run("config", "-q", secret_key=SECRET, field_key=None, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "set FIELD_ENCRYPTION_KEYS" in result.stderr


def test_services(rendered, tmp_path):
    assert REQUIRED_SERVICES <= set(_services(rendered))
    listed = _run("config", "--services", secret_key=SECRET, tmp_path=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert REQUIRED_SERVICES <= set(listed.stdout.split())


def test_redis_keeps_an_append_only_file(rendered):
    redis = _services(rendered)["redis"]
    words = _words(_key(redis, "command"))
    assert words[:1] == ["redis-server"], redis
    assert "--appendonly" in words and words[words.index("--appendonly") + 1] == "yes", redis
    assert _key(redis, "healthcheck") and _key(redis, "volumes"), redis


def test_postgres_has_a_volume_and_a_healthcheck(rendered):
    postgres = _services(rendered)["postgres"]
    assert "/var/lib/postgresql/data" in _key(postgres, "volumes"), postgres
    assert "pg_isready" in _key(postgres, "healthcheck"), postgres


def test_app_services_share_one_image_and_production_settings(rendered):
    services = _services(rendered)
    images = {_key(services[name], "image").strip() for name in APP_SERVICES}
    assert len(images) == 1 and images != {""}, images
    for name in APP_SERVICES:
        env = _key(services[name], "environment")
        assert re.search(r"^      DEBUG: '?0'?$", env, re.M), (name, env)
        assert f"SECRET_KEY: {SECRET}" in env, (name, env)
        assert f"FIELD_ENCRYPTION_KEYS: {FIELD_KEY}" in env, (name, env)
        assert "DATABASE_URL: postgres://" in env, (name, env)
        assert "REDIS_URL: redis://redis:6379/0" in env, (name, env)
        assert "EMAIL_HOST: mail" in env, (name, env)
    assert "DEVMAIL_HOST: 0.0.0.0" in _key(services["mail"], "environment")
    for name in ("web", "worker"):
        depends = _key(services[name], "depends_on")
        assert "condition: service_healthy" in depends, (name, depends)


def test_web_runs_gunicorn_published_on_loopback_only(rendered):
    web = _services(rendered)["web"]
    words = _words(_key(web, "command"))
    assert words[:1] == ["gunicorn"] and "0.0.0.0:8000" in words, words
    ports = [w for w in _words(_key(web, "ports"))]
    assert ports and all(p.startswith("127.0.0.1:") for p in ports), ports


def test_web_and_worker_share_the_attachment_store(rendered):
    # The worker stores attachments of fetched mail; web serves them.
    services = _services(rendered)
    for name in ("web", "worker"):
        assert "media:/app/var/media" in _key(services[name], "volumes"), name


def test_no_demo_superuser_unless_asked(rendered, tmp_path):
    """The migrate service runs demo_setup (alice, bob and a superuser named admin) only with DEMO_SETUP=1."""
    migrate = _services(rendered)["migrate"]
    assert "demo_setup" in " ".join(_words(_key(migrate, "command")))
    assert re.search(r"^      DEMO_SETUP: '?0'?$", _key(migrate, "environment"), re.M), migrate
    asked = _run("config", secret_key=SECRET, tmp_path=tmp_path, extra_env={"DEMO_SETUP": "1"})
    assert asked.returncode == 0, asked.stderr
    assert re.search(r"^      DEMO_SETUP: '?1'?$", _key(_services(asked.stdout)["migrate"], "environment"), re.M)
    quiet = _run("config", "-q", secret_key=SECRET, tmp_path=tmp_path)
    assert quiet.returncode == 0 and quiet.stdout == "", quiet.stderr


def test_plain_http_stack_is_not_redirected_unless_asked(rendered):
    for name in APP_SERVICES:
        assert re.search(r"^      SECURE_SSL_REDIRECT: '?0'?$", _key(_services(rendered)[name], "environment"),
                         re.M), name


def test_worker_can_be_scaled_and_beat_runs_once(rendered):
    # `docker-compose up --scale worker=N` refuses a service with a container_name, and N containers cannot all
    # publish one host port; beat is its own service (every worker with -B would be one more beat).
    services = _services(rendered)
    worker, beat = services["worker"], services["beat"]
    for key in ("container_name", "ports", "hostname"):
        assert not _key(worker, key), (key, worker)
    worker_words, beat_words = _words(_key(worker, "command")), _words(_key(beat, "command"))
    assert worker_words[:4] == ["celery", "-A", "mailsite", "worker"], worker_words
    assert "-B" not in worker_words and "--beat" not in worker_words, worker_words
    assert beat_words[:4] == ["celery", "-A", "mailsite", "beat"], beat_words
    beats = [name for name, block in services.items()
             if "beat" in _words(_key(block, "command")) or "-B" in _words(_key(block, "command"))]
    assert beats == ["beat"], beats
    assert not _key(beat, "deploy"), beat  # (no replicas)
