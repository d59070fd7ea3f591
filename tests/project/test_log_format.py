"""LOG_FORMAT picks the console formatter of every process (web, worker, beat): text by default, json on request,
anything else a clear start-up error."""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CODE = """
import logging, django
django.setup()
logging.getLogger("spooler.poll").info("poll account=%s", 7, extra={"event": "poll", "account_id": 7})
"""


def run(**env_extra):
    env = {k: v for k, v in os.environ.items() if k != "LOG_FORMAT"}
    env.update(env_extra, DJANGO_SETTINGS_MODULE="mailsite.settings")
    return subprocess.run([sys.executable, "-c", CODE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_text_by_default():
    result = run()
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().endswith("INFO MainProcess spooler.poll: poll account=7")


def test_json_lines_with_the_extra_fields():
    result = run(LOG_FORMAT="json")
    assert result.returncode == 0, result.stderr
    line = json.loads(result.stderr.strip())
    assert line["message"] == "poll account=7" and line["event"] == "poll" and line["account_id"] == 7
    assert line["level"] == "INFO" and line["logger"] == "spooler.poll" and line["time"] and line["pid"]


def test_another_value_is_refused_at_start():
    result = run(LOG_FORMAT="xml")
    assert result.returncode != 0 and "LOG_FORMAT must be text or json" in result.stderr
