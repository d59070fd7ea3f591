# Mailsite: one image for every service of docker-compose.yml (web, worker, beat, migrate, mail).
# The command picks the role; the default is the web server (gunicorn on 0.0.0.0:8000).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Dovecot (POP3/IMAP) and openssl for the mail sandbox (`manage.py devmail`). The sandbox writes its
# own private config under DEVMAIL_DIR; the packaged system service is never started (policy-rc.d
# keeps the package scripts from starting it during the install).
RUN printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d \
    && chmod +x /usr/sbin/policy-rc.d \
    && apt-get update \
    && apt-get install -y --no-install-recommends dovecot-pop3d dovecot-imapd openssl \
    && rm -rf /var/lib/apt/lists/* /usr/sbin/policy-rc.d

# An ordinary user for every service. The sandbox's Dovecot runs entirely as this user too.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /home/app --create-home \
       --shell /usr/sbin/nologin app

WORKDIR /app

COPY requirements.txt .
RUN pip install -r requirements.txt

# The code belongs to root and is read-only for the app user; only var/ is writable
# (var/devmail is the sandbox's volume, var/celerybeat-schedule is beat's state).
COPY . .
RUN mkdir -p /app/var/devmail && chown -R app:app /app/var

# Static files are collected into the image (served by whitenoise). DEBUG=0 requires SECRET_KEY and
# ALLOWED_HOSTS: these build-time values exist only for this command and are not kept in the image.
RUN DEBUG=0 SECRET_KEY=collectstatic-build-only ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --noinput

USER app

EXPOSE 8000

CMD ["gunicorn", "mailsite.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
