#!/usr/bin/env bash
# `make run`: set up, then start the site, a Celery worker, Celery beat, the mail sandbox (and a private
# Redis when none answers at REDIS_URL) together under honcho. One Ctrl-C stops them all.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh run
py=.venv/bin/python

# Nothing half-started: every port must be free before anything starts.
$py manage.py preflight

# REDIS_URL and WEB_PORT as every process sees them: the environment first, then .env (mailsite/settings.py).
# The URL is shown with its password hidden.
read -r redis_url redis_shown WEB_PORT <<< "$($py -c '
import os, urllib.parse as u
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mailsite.settings")
from django.conf import settings
url = settings.REDIS_URL
p = u.urlsplit(url)
shown = p._replace(netloc=p.netloc.replace(":" + p.password + "@", ":***@")).geturl() if p.password else url
print(url, shown, os.environ.get("WEB_PORT", "8000"))')"
export WEB_PORT

procs=(web worker beat devmail)
redis_error=$($py -c '
import sys, redis
try:
    redis.Redis.from_url(sys.argv[1], socket_connect_timeout=1, socket_timeout=2).ping()
except redis.RedisError as exc:
    print(f"{type(exc).__name__}: {exc}")' "$redis_url")
if [ -n "$redis_error" ]; then
  export REDIS_PORT
  REDIS_PORT=$($py -c 'import sys, urllib.parse as u; print(u.urlsplit(sys.argv[1]).port or 6379)' "$redis_url")
  # Something that is not a Redis we can use (one with a password, another service) holds the port:
  # a private Redis could not start there.
  if ! $py -c '
import socket, sys
with socket.socket() as s:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", int(sys.argv[1])))
    except OSError:
        sys.exit(1)' "$REDIS_PORT"; then
    echo "run: no Redis we can use answers at $redis_shown ($redis_error)," >&2
    echo "run: and port $REDIS_PORT is in use, so a private one cannot start there. Give REDIS_URL that Redis's password" >&2
    echo "run: (redis://:PASSWORD@127.0.0.1:$REDIS_PORT/0), or a free port for a private one (e.g. REDIS_URL=redis://127.0.0.1:6390/0)." >&2
    exit 1
  fi
  mkdir -p var/redis
  echo "run: no Redis answers at $redis_shown; starting a private one on port $REDIS_PORT (files in var/redis)"
  procs=(redis "${procs[@]}")
fi

$py manage.py migrate --noinput -v 0
$py manage.py demo_setup

echo "run: the site is at http://127.0.0.1:$WEB_PORT  (Ctrl-C stops everything)"
# -e /dev/null: the processes read .env through the settings, where the environment wins; honcho's own
# reading of .env would let .env win instead, so `VAR=x make run` and migrate above could disagree with them.
exec .venv/bin/honcho start -f Procfile -e /dev/null "${procs[@]}"
