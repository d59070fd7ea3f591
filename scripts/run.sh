#!/usr/bin/env bash
# `make run`: set up, then start the site, a Celery worker, Celery beat, the mail sandbox (and a private
# Redis when none answers at REDIS_URL) together under honcho. One Ctrl-C stops them all.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh run
py=.venv/bin/python

# Nothing half-started: every port must be free before anything starts.
$py manage.py preflight

$py manage.py migrate --noinput -v 0
$py manage.py demo_setup

procs=(web worker beat devmail)
redis_url=${REDIS_URL:-redis://127.0.0.1:6379/0}
if ! $py -c 'import redis, sys; redis.Redis.from_url(sys.argv[1], socket_connect_timeout=1).ping()' "$redis_url" 2>/dev/null; then
  export REDIS_PORT
  REDIS_PORT=$($py -c 'import sys, urllib.parse as u; print(u.urlsplit(sys.argv[1]).port or 6379)' "$redis_url")
  mkdir -p var/redis
  echo "run: no Redis answers at $redis_url; starting a private one on port $REDIS_PORT (files in var/redis)"
  procs=(redis "${procs[@]}")
fi
export WEB_PORT=${WEB_PORT:-8000}
echo "run: the site is at http://127.0.0.1:$WEB_PORT  (Ctrl-C stops everything)"
exec .venv/bin/honcho start -f Procfile "${procs[@]}"
