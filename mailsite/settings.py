"""Mailsite settings: every value comes from the environment (django-environ).

Defaults run locally with no .env at all (SQLite under var/, Redis on 127.0.0.1:6379, the dev mail
sandbox). With DEBUG off, production-only values (SECRET_KEY, ALLOWED_HOSTS) have no default.
"""
from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=True)

if DEBUG:
    SECRET_KEY = env("SECRET_KEY", default="dev-only-insecure-key-never-use-in-production")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
else:
    SECRET_KEY = env("SECRET_KEY")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")

CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Mail-account passwords are stored encrypted (mailsite/mailboxes/encryption.py): comma-separated Fernet keys, the
# first encrypts, all decrypt (rotation: README, "Secrets"). With DEBUG on and none set, a development key is kept
# in var/ (made on first use); with DEBUG off a key is required (a system check error at start otherwise).
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])
FIELD_ENCRYPTION_DEV_KEY_FILE = VAR_DIR / "field_encryption.key" if DEBUG else None
# Error reports (the DEBUG page, mails to ADMINS) also hide the password of any URL (REDIS_URL, DATABASE_URL...).
DEFAULT_EXCEPTION_REPORTER_FILTER = "mailsite.error_reports.SecretsReporterFilter"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # Login defence: failed logins counted per user and per client address (django-axes), and optional TOTP
    # two-factor login with recovery codes (django-otp).
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "mailsite.mailboxes",
    "mailsite.webmail",
    "mailsite.formmail",
    "mailsite.api",
    "spooler",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The browser's language (cookie, then Accept-Language); a signed-in user's saved one is applied after
    # AuthenticationMiddleware, by mailsite.middleware.user_preferences.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # A user with two-factor login on reaches no page but the code's until they typed a code.
    "mailsite.middleware.two_factor_required",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "mailsite.middleware.content_security_policy",
    "mailsite.middleware.user_preferences",
    # Pages that show mail or account data are never stored by a browser or a proxy.
    "mailsite.middleware.private_no_store",
    # Last: it answers a locked-out login before any view runs.
    "axes.middleware.AxesMiddleware",
]

# AxesStandaloneBackend first: it refuses a locked-out client before the password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "mailsite.urls"
WSGI_APPLICATION = "mailsite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# SQLite under var/ by default; DATABASE_URL switches to PostgreSQL.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'mailsite.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while a worker writes; IMMEDIATE avoids lock upgrades
    # that fail at once under concurrent writers; timeout waits for the other writer.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        }
    )
    # Test databases live on disk so a real Celery worker process can open the same file; beside the database
    # (DATABASE_URL=sqlite:////tmp/x/db.sqlite3 gives /tmp/x/test.sqlite3), so two runs can use two folders.
    _db_name = DATABASES["default"]["NAME"]
    _test_dir = Path(_db_name).parent if _db_name and _db_name != ":memory:" else VAR_DIR
    DATABASES["default"]["TEST"] = {"NAME": str(_test_dir / "test.sqlite3")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Connections are kept between requests and between Celery tasks (Celery closes them after each task only when
# they are older than this), and checked before reuse. A new PostgreSQL connection costs ~10 ms, which every
# delivery task paid before its first message.
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
# Failed logins (the admin's too; README: "Logging in safely"). A user name with LOGIN_FAILURE_LIMIT failures
# within LOGIN_COOLOFF_SECONDS is locked, from any address; so is a client address with that many failures, for
# any user name. A good login resets both counts. Locked logins get a page that says so (HTTP 429) until the
# oldest failure is older than the cool-off.
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_COOLOFF_SECONDS = env.int("LOGIN_COOLOFF_SECONDS", default=15 * 60)
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(seconds=LOGIN_COOLOFF_SECONDS)
AXES_LOCKOUT_PARAMETERS = [["username"], ["ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False  # (its start-up banner would land in every manage.py command's output)
# One rule for the client's address: the rate limits' (TRUSTED_PROXY_COUNT), as an address axes can store.
AXES_CLIENT_IP_CALLABLE = "mailsite.formmail.client.client_ip"
AXES_LOCKOUT_CALLABLE = "mailsite.webmail.views.lockout.lockout_page"
# Two-factor login: the issuer shown in authenticator apps; wrong codes slow further tries down (django-otp).
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", default="Mailsite")
OTP_STATIC_RECOVERY_CODES = 10
LOGIN_REDIRECT_URL = "webmail:inbox"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
# The languages of the site: locale/<code>/LC_MESSAGES/django.po (README: "Languages and time zones").
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")

# Security headers. Mail is hostile input: pages send a strict CSP and never get framed.
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_TLS_PROXY", default=False) else None
# HTTPS only in production (README: "Behind a TLS proxy"): plain-HTTP requests are redirected, and browsers are told
# to use only HTTPS for this long (HSTS, a year; browsers remember it, so try a small value first). Preloading is an
# opt-in (a list shipped in browsers, slow to leave). `make run` (DEBUG) stays plain HTTP with none of these.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)

# Logs go to stderr, as text (for people: `make run`) or, with LOG_FORMAT=json, one JSON object per line (for a log
# collector) carrying the `extra` fields of the delivery and poll lines (README, "Metrics and logs"). The Celery
# worker and beat use this too (mailsite/celery.py).
LOG_FORMAT = env("LOG_FORMAT", default="text")
if LOG_FORMAT not in ("text", "json"):
    raise environ.ImproperlyConfigured(f"LOG_FORMAT must be text or json, not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(processName)s %(name)s: %(message)s"},
        "json": {"()": "pythonjsonlogger.json.JsonFormatter",
                 "fmt": "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s",
                 "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger", "process": "pid"}},
    },
    "filters": {"require_debug_false": {"()": "django.utils.log.RequireDebugFalse"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT},
        # (Django's default, kept: errors mailed to ADMINS when there are any and DEBUG is off)
        "mail_admins": {"level": "ERROR", "filters": ["require_debug_false"],
                        "class": "django.utils.log.AdminEmailHandler"},
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    # Django's own loggers through the same handler (its defaults would add plain-text lines of their own: a
    # second copy of each request error under DEBUG, runserver's access lines).
    "loggers": {
        "django": {"handlers": ["console", "mail_admins"], "level": "INFO", "propagate": False},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # A worker's "celery@host ready." whatever LOG_LEVEL: what scripts, tests and people wait for before
        # they count on it (Celery's --loglevel no longer applies: the worker logs through this configuration).
        "celery.apps.worker": {"level": "INFO"},
    },
}

# --- /metrics (mailsite/metrics.py): Prometheus text format, for staff signed in or with this bearer token
# ("Authorization: Bearer <token>"). Empty: staff only.
METRICS_TOKEN = env("METRICS_TOKEN", default="")
# The delivery latency histogram covers the messages sent in this many last hours (a bounded query per scrape).
METRICS_LATENCY_HOURS = env.int("METRICS_LATENCY_HOURS", default=24)

# --- Celery (Redis broker). The message is only a wake-up call; the database row is the spool.
REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = REDIS_URL
CELERY_BROKER_TRANSPORT = "mailsite.broker:Transport"
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=360)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A page publishes with a short timeout: a dead Redis must not hold a request.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": env.float("REDIS_CONNECT_TIMEOUT", default=0.5),
    "socket_timeout": env.float("REDIS_SOCKET_TIMEOUT", default=5.0),
    "visibility_timeout": 3600,
    # Fail a publish at once instead of sleeping between reconnects: the sweeper re-wakes the rows.
    # (The worker's consumer reconnects with its own retry settings.)
    "max_retries": 0,
}
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("REDIS_CONNECT_TIMEOUT", default=0.5)
POLL_INTERVAL_SECONDS = env.float("POLL_INTERVAL_SECONDS", default=30.0)
SWEEP_INTERVAL_SECONDS = env.float("SWEEP_INTERVAL_SECONDS", default=30.0)
# Attachment files and outbox part bodies no message refers to are removed this often (spooler/services/storage.py),
# once older than the grace period (longer than a poll or an enqueue takes between writing a file and its row).
STORAGE_COLLECT_INTERVAL_SECONDS = env.float("STORAGE_COLLECT_INTERVAL_SECONDS", default=3600.0)
STORAGE_COLLECT_GRACE_SECONDS = env.int("STORAGE_COLLECT_GRACE_SECONDS", default=3600)
CELERY_BEAT_SCHEDULE = {
    "poll-due-accounts": {"task": "spooler.tasks.poll_due_accounts", "schedule": POLL_INTERVAL_SECONDS},
    "sweep-outbox": {"task": "spooler.tasks.sweep_outbox", "schedule": SWEEP_INTERVAL_SECONDS},
    "purge-idempotency-keys": {"task": "mailsite.api.tasks.idempotency_keys_purge", "schedule": 3600.0},
    "collect-storage": {"task": "spooler.tasks.storage_collect", "schedule": STORAGE_COLLECT_INTERVAL_SECONDS},
}

# --- Mail. All site mail (password reset, compose) goes through the spool.
EMAIL_BACKEND = "spooler.backend.EmailBackend"
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Mailsite <noreply@example.test>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The default relay, for site mail and accounts without their own SMTP server.
EMAIL_HOST = env("EMAIL_HOST", default="127.0.0.1")
EMAIL_PORT = env.int("EMAIL_PORT", default=2525)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_SECURITY = env("EMAIL_SECURITY", default="none")  # none | starttls | tls
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT", default=30.0)

SPOOL_BATCH_SIZE = env.int("SPOOL_BATCH_SIZE", default=100)
SPOOL_LEASE_SECONDS = env.int("SPOOL_LEASE_SECONDS", default=600)
SPOOL_RETRY_BASE_SECONDS = env.int("SPOOL_RETRY_BASE_SECONDS", default=300)
SPOOL_RETRY_MAX_SECONDS = env.int("SPOOL_RETRY_MAX_SECONDS", default=4000)
SPOOL_LIFETIME_SECONDS = env.int("SPOOL_LIFETIME_SECONDS", default=5 * 24 * 3600)
# A reused SMTP connection idle longer than this is checked with NOOP before the next message.
SPOOL_SMTP_NOOP_AFTER_SECONDS = env.float("SPOOL_SMTP_NOOP_AFTER_SECONDS", default=30.0)
# One delivery task drains the spool at most this long, then hands over to a fresh task (time limits).
SPOOL_DRAIN_SECONDS = env.float("SPOOL_DRAIN_SECONDS", default=120.0)
# Wake-ups published by one process are coalesced: at most one per this interval (a trailing one is never lost).
SPOOL_WAKE_COALESCE_SECONDS = env.float("SPOOL_WAKE_COALESCE_SECONDS", default=0.2)
# A message scheduled this soon (undo send's window, a send later in a few minutes) gets a wake-up of its own at its
# time; a later one is found by the sweeper (a wake-up with a countdown waits in a worker's memory till then).
SPOOL_SCHEDULED_WAKE_MAX_SECONDS = env.float("SPOOL_SCHEDULED_WAKE_MAX_SECONDS", default=600.0)
# Rows held back by a relay's limits (spooler.RelayLimit, in the admin) are tried again after this.
SPOOL_LIMIT_RETRY_SECONDS = env.float("SPOOL_LIMIT_RETRY_SECONDS", default=5.0)
# A relay must connect, greet and log us in within this (then EMAIL_TIMEOUT / MAIL_TIMEOUT per command).
SPOOL_CONNECT_TIMEOUT = env.float("SPOOL_CONNECT_TIMEOUT", default=10.0)
# A relay that did not answer (connect, greeting) is not tried again for this long: its rows are deferred at once.
SPOOL_RELAY_DOWN_SECONDS = env.float("SPOOL_RELAY_DOWN_SECONDS", default=60.0)
# The sweeper reads kept receipts this many at a time, until none is left.
SPOOL_RECEIPT_PAGE = env.int("SPOOL_RECEIPT_PAGE", default=1000)
# Fault tests only: the sweeper sleeps this long after each page of receipts (a slow recovery).
SPOOL_TEST_RECOVERY_DELAY_SECONDS = env.float("SPOOL_TEST_RECOVERY_DELAY_SECONDS", default=0.0)
# Part bodies (attachments) of at least this many bytes are stored once by content hash.
SPOOL_BLOB_MIN_BYTES = env.int("SPOOL_BLOB_MIN_BYTES", default=4096)
# The sender of bounce notices put into a sender's webmail inbox.
SPOOL_BOUNCE_FROM = env("SPOOL_BOUNCE_FROM", default="Mail Delivery System <mailer-daemon@example.test>")

# One poll per account: its lease lives this long unless renewed (a heartbeat renews it every third of it), so
# a poller that dies holds its account this long at most.
POLL_LEASE_SECONDS = env.float("POLL_LEASE_SECONDS", default=30.0)
# Beat marks an account queued when it queues its poll; a mark older than this is ignored (the task was lost).
POLL_QUEUE_MARK_SECONDS = env.int("POLL_QUEUE_MARK_SECONDS", default=600)
POLL_MAX_MESSAGES = env.int("POLL_MAX_MESSAGES", default=500)
# One poll session stops taking new messages after this many seconds, closes with QUIT/LOGOUT; the next continues.
POLL_SESSION_SECONDS = env.float("POLL_SESSION_SECONDS", default=120.0)
# A failing account is polled again after this backoff: doubles from the base up to the cap.
POLL_RETRY_BASE_SECONDS = env.int("POLL_RETRY_BASE_SECONDS", default=60)
POLL_RETRY_MAX_SECONDS = env.int("POLL_RETRY_MAX_SECONDS", default=3600)
# Fault tests only: sleep this long after retrieving each message, so a test can kill a poll half-way. 0 otherwise.
POLL_TEST_STORE_DELAY_SECONDS = env.float("POLL_TEST_STORE_DELAY_SECONDS", default=0.0)
MAX_MESSAGE_BYTES = env.int("MAX_MESSAGE_BYTES", default=50 * 1024 * 1024)
# HTML from mail is measured against these before any sanitiser sees it (spooler/services/html/); over
# one, the message's text part (or a "too complex to show" note) is shown and the raw message is kept.
HTML_MAX_BYTES = env.int("HTML_MAX_BYTES", default=2 * 1024 * 1024)
HTML_MAX_DEPTH = env.int("HTML_MAX_DEPTH", default=512)
HTML_MAX_ATTRIBUTES = env.int("HTML_MAX_ATTRIBUTES", default=100)
HTML_MAX_ELEMENTS = env.int("HTML_MAX_ELEMENTS", default=200_000)
HTML_MAX_FORMATTING = env.int("HTML_MAX_FORMATTING", default=64)
# The search box (webmail/search_query.py): longer or with more words, a search is refused with a message.
SEARCH_MAX_QUERY_CHARS = env.int("SEARCH_MAX_QUERY_CHARS", default=500)
SEARCH_MAX_TERMS = env.int("SEARCH_MAX_TERMS", default=30)
# A text part's links (webmail/reading/text.py): only this many characters are scanned and this many links made;
# past them the text is escaped only.
TEXT_LINKIFY_MAX_CHARS = env.int("TEXT_LINKIFY_MAX_CHARS", default=200_000)
TEXT_LINKIFY_MAX_LINKS = env.int("TEXT_LINKIFY_MAX_LINKS", default=1_000)
MAIL_TIMEOUT = env.float("MAIL_TIMEOUT", default=30.0)
# Attachments of fetched mail, stored once per content hash through Django's default storage (never served directly).
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")

# --- Writing mail (the compose page).
# The attachments of one message together; over it, an error beside the field and nothing queued.
COMPOSE_MAX_ATTACHMENT_BYTES = env.int("COMPOSE_MAX_ATTACHMENT_BYTES", default=20 * 1024 * 1024)
# A sent message waits this long in the spool, so that "Undo" really stops it. 0: no undo.
UNDO_SEND_SECONDS = env.int("UNDO_SEND_SECONDS", default=10)
# A draft's fields together (drafts are saved as typed, but not without bound).
DRAFT_MAX_BYTES = env.int("DRAFT_MAX_BYTES", default=1024 * 1024)

# --- The HTTP API (/api/v1/, mailsite/api/). Over a limit: a problem response and nothing queued.
# One request's body (JSON, attachments in base64 inside it): over it, 413 before any of it is parsed.
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=COMPOSE_MAX_ATTACHMENT_BYTES * 4 // 3 + 1024 * 1024)
# The attachments of one message together, decoded (the compose page's limit by default): over it, 413.
API_MAX_ATTACHMENT_BYTES = env.int("API_MAX_ATTACHMENT_BYTES", default=COMPOSE_MAX_ATTACHMENT_BYTES)
API_MAX_ATTACHMENTS = env.int("API_MAX_ATTACHMENTS", default=50)
# To + Cc + Bcc of one message.
API_MAX_RECIPIENTS = env.int("API_MAX_RECIPIENTS", default=100)
# A retried POST with the same Idempotency-Key returns the first message for this long (then the key is forgotten).
API_IDEMPOTENCY_SECONDS = env.int("API_IDEMPOTENCY_SECONDS", default=24 * 3600)
# send_at at most this far ahead.
API_MAX_SCHEDULE_DAYS = env.int("API_MAX_SCHEDULE_DAYS", default=365)
# Messages per page of GET /api/v1/messages (?limit= up to this).
API_PAGE_MAX = env.int("API_PAGE_MAX", default=100)
# Live API tokens one user may hold.
API_MAX_TOKENS = env.int("API_MAX_TOKENS", default=20)

# --- Dev mail sandbox (manage.py devmail): aiosmtpd + a private Dovecot under var/.
DEVMAIL_DIR = env.path("DEVMAIL_DIR", default=VAR_DIR / "devmail")
DEVMAIL_DOMAIN = env("DEVMAIL_DOMAIN", default="example.test")
DEVMAIL_HOST = env("DEVMAIL_HOST", default="127.0.0.1")
DEVMAIL_SMTP_PORT = env.int("DEVMAIL_SMTP_PORT", default=2525)
DEVMAIL_POP3_PORT = env.int("DEVMAIL_POP3_PORT", default=2110)
DEVMAIL_IMAP_PORT = env.int("DEVMAIL_IMAP_PORT", default=2143)
DEVMAIL_POP3S_PORT = env.int("DEVMAIL_POP3S_PORT", default=2995)
DEVMAIL_IMAPS_PORT = env.int("DEVMAIL_IMAPS_PORT", default=2993)

# --- Forms that send mail (mailsite/formmail): the public contact form and any other form using form_mail_send.
# Where the contact form's messages go. By default alice's sandbox mailbox, so under `make run` they arrive in her
# webmail inbox (the demo has no other reader); set it to a real mailbox in production.
CONTACT_EMAIL = env("CONTACT_EMAIL", default=f"alice@{DEVMAIL_DOMAIN}")
# Sizes of the contact form's fields, in characters; over one, an error beside the field and nothing queued.
CONTACT_MAX_NAME_CHARS = env.int("CONTACT_MAX_NAME_CHARS", default=100)
CONTACT_MAX_SUBJECT_CHARS = env.int("CONTACT_MAX_SUBJECT_CHARS", default=200)
CONTACT_MAX_MESSAGE_CHARS = env.int("CONTACT_MAX_MESSAGE_CHARS", default=10_000)
# Messages the contact form accepts: per client address and for the whole site, "<count>/<period>" with the
# period s, m, h or d, optionally with a number ("20/10m"). Counted in Redis, shared by every web process.
CONTACT_RATE_PER_IP = env("CONTACT_RATE_PER_IP", default="5/h")
CONTACT_RATE_GLOBAL = env("CONTACT_RATE_GLOBAL", default="200/h")
# Password reset mails asked for per client address, counted the same way (the form mails any address typed in).
PASSWORD_RESET_RATE_PER_IP = env("PASSWORD_RESET_RATE_PER_IP", default="10/h")
# The Redis of the rate limits (default: the broker's). A page waits at most these timeouts; when Redis does not
# answer, each process counts on its own in memory (the limits then hold per process) and tries Redis again after
# RATE_LIMIT_REDIS_RETRY_SECONDS.
RATE_LIMIT_REDIS_URL = env("RATE_LIMIT_REDIS_URL", default=REDIS_URL)
RATE_LIMIT_REDIS_TIMEOUT = env.float("RATE_LIMIT_REDIS_TIMEOUT", default=0.3)
RATE_LIMIT_REDIS_RETRY_SECONDS = env.float("RATE_LIMIT_REDIS_RETRY_SECONDS", default=30.0)
# The client address is REMOTE_ADDR, unless the site runs behind this many reverse proxies that each append the
# address they saw to X-Forwarded-For: then it is the one the outermost trusted proxy appended. 0: never read it.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# --- Mail accounts users set up themselves (spooler/services/mail_hosts.py). Which servers a user may make the
# site connect to: by default only public hosts (every address they resolve to is global) on the standard mail
# ports, so the site cannot be used to probe the internal network or other services. MAIL_ALLOWED_HOSTS adds
# explicit exceptions, checked before that rule: "host" (any port), "host:port", "*.example.com" (shell-style
# patterns), or "*" for any host on any port. In DEBUG the dev mail sandbox is allowed, so `make run` works.
MAIL_PUBLIC_PORTS = [int(p) for p in env.list("MAIL_PUBLIC_PORTS", default=["25", "110", "143", "465", "587", "993",
                                                                             "995"])]
MAIL_ALLOWED_HOSTS = env.list("MAIL_ALLOWED_HOSTS", default=[
    f"{DEVMAIL_HOST}:{port}" for port in (DEVMAIL_SMTP_PORT, DEVMAIL_POP3_PORT, DEVMAIL_IMAP_PORT, DEVMAIL_POP3S_PORT,
                                          DEVMAIL_IMAPS_PORT)
] if DEBUG else [])
# Looking a host name up when an account is saved waits at most this long.
MAIL_DNS_TIMEOUT = env.float("MAIL_DNS_TIMEOUT", default=5.0)
# "Test connection" results (the row keeps the settings tried) are deleted after this many seconds; a test the
# worker has not started after MAIL_TEST_PICKUP_SECONDS is reported as such by the page.
MAIL_TEST_KEEP_SECONDS = env.int("MAIL_TEST_KEEP_SECONDS", default=3600)
MAIL_TEST_PICKUP_SECONDS = env.int("MAIL_TEST_PICKUP_SECONDS", default=20)
# A user may have this many tests waiting or running at once (each one ties up a worker for up to MAIL_TIMEOUT).
MAIL_TEST_MAX_WAITING = env.int("MAIL_TEST_MAX_WAITING", default=2)
# "Check now" (a poll of each of the user's accounts, whatever their schedule): an account whose poll is already
# queued or being polled is not queued again, and a user may ask this many times a minute (counted in the database);
# over it the page says so and nothing is queued. 0: no per-minute limit.
MAIL_CHECK_NOW_PER_MINUTE = env.int("MAIL_CHECK_NOW_PER_MINUTE", default=6)

# --- Sending quota per user (spooler/services/outbound/quota.py): messages and recipients each user may spool per
# hour and per day (the last 60 minutes, the last 24 hours), counted from their outbox rows. Over it the compose form
# says so and the API answers 429; nothing is queued. 0: no limit. The admin can lift or change it per user
# (Spooler › Sending quotas). Site mail (password resets, bounce notices, the contact form) is not counted.
SEND_QUOTA_MESSAGES_PER_HOUR = env.int("SEND_QUOTA_MESSAGES_PER_HOUR", default=200)
SEND_QUOTA_RECIPIENTS_PER_HOUR = env.int("SEND_QUOTA_RECIPIENTS_PER_HOUR", default=1000)
SEND_QUOTA_MESSAGES_PER_DAY = env.int("SEND_QUOTA_MESSAGES_PER_DAY", default=1000)
SEND_QUOTA_RECIPIENTS_PER_DAY = env.int("SEND_QUOTA_RECIPIENTS_PER_DAY", default=5000)
