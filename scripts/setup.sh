#!/usr/bin/env bash
# Idempotent set-up shared by `make run` and `make test`: system packages, the venv, Python packages.
# Usage: scripts/setup.sh run|test
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-run}

# System packages each mode needs: "debian-package:file-it-provides".
need=(redis-server:/usr/bin/redis-server redis-tools:/usr/bin/redis-cli
      dovecot-pop3d:/usr/lib/dovecot/pop3 dovecot-imapd:/usr/lib/dovecot/imap openssl:/usr/bin/openssl)
if [ "$mode" = test ]; then
  # gettext: the translation tests run makemessages and compilemessages.
  need+=(chromium:/usr/bin/chromium docker-compose:/usr/bin/docker-compose postfix:/usr/sbin/smtp-sink
        gettext:/usr/bin/msgfmt)
fi
python3 -c 'import ensurepip, venv' 2>/dev/null || need+=(python3-venv:/nonexistent)
# Extra "package:file" pairs, space-separated (used by the tests of this script).
read -r -a extra <<< "${SETUP_EXTRA_PACKAGES:-}"
need+=("${extra[@]}")

missing=()
for item in "${need[@]}"; do
  [ -e "${item#*:}" ] || missing+=("${item%%:*}")
done

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing system packages: ${missing[*]}"
    # Keep Debian from starting system-wide services for these packages: Mailsite runs its own.
    policy_made=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && policy_made=1
    fi
    export DEBIAN_FRONTEND=noninteractive
    # postfix is only wanted for its smtp-sink (benchmark and fault tests): no mail system is configured.
    if command -v debconf-set-selections >/dev/null; then
      debconf-set-selections <<< "postfix postfix/main_mailer_type select No configuration"
    fi
    (apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}") >/dev/null \
      || { [ -n "$policy_made" ] && rm -f /usr/sbin/policy-rc.d; echo "setup: apt-get install ${missing[*]} failed" >&2; exit 1; }
    [ -n "$policy_made" ] && rm -f /usr/sbin/policy-rc.d
  else
    for pkg in "${missing[@]}"; do
      echo "setup: missing system package $pkg; install it with: sudo apt-get install $pkg" >&2
    done
    exit 1
  fi
fi

# The venv, and Python packages whenever a requirements file changed.
[ -x .venv/bin/python ] || python3 -m venv .venv
reqs=requirements.txt
[ "$mode" = test ] && reqs=requirements-dev.txt
stamp=.venv/.installed-$mode
if [ ! -e "$stamp" ] || [ requirements.txt -nt "$stamp" ] || [ "$reqs" -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --disable-pip-version-check -r "$reqs"
  touch "$stamp"
fi
mkdir -p var
