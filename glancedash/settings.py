"""glancedash settings: one file, every value from the environment with a laptop default.

A development run (DEBUG on, the default) needs no configuration at all. A production run
(DEBUG=False) refuses to start until it is given a real SECRET_KEY and FIELD_ENCRYPTION_KEY,
and is configured so that `manage.py check --deploy` is clean. README.md, "Configuration",
lists every variable, and the rule their names follow.
"""

import os
import warnings
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# An optional .env file beside manage.py, for operators who prefer a file to exported variables.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

_warned: set[str] = set()


def renamed(read, name: str, old: str, **kwargs):
    """`read(name, **kwargs)` for a variable renamed from `old` (README, "Configuration", says
    how variables are named). The old name still works, with a warning, once, to rename it."""
    if name not in os.environ and old in os.environ:
        if old not in _warned:
            _warned.add(old)
            warnings.warn(
                f"The environment variable {old} is deprecated: rename it to {name}.",
                FutureWarning,  # shown by default: it is for whoever runs glancedash
                stacklevel=2,
            )
        name = old
    return read(name, **kwargs)


DEBUG = env.bool("DEBUG", default=True)

DATA_DIR = Path(env.str("GLANCEDASH_DATA_DIR", default=str(BASE_DIR / "data")))
DATA_DIR.mkdir(parents=True, exist_ok=True)

# Development-only secrets. They are public (they are in this file), so production refuses them.
_DEV_SECRET_KEY = "dev-only-insecure-secret-key-do-not-use-in-production-glancedash"  # noqa: S105
_DEV_ENCRYPTION_KEY = "ZGV2LW9ubHktZ2xhbmNlZGFzaC1lbmNyeXB0aW9uLWs="

SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET_KEY)
# Fernet keys, comma-separated: the first encrypts, all decrypt (rotation; README "Credentials").
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEY", default=[_DEV_ENCRYPTION_KEY])

if not DEBUG:
    if SECRET_KEY == _DEV_SECRET_KEY:
        raise ImproperlyConfigured("DEBUG is off: set SECRET_KEY to a long random value.")
    if _DEV_ENCRYPTION_KEY in FIELD_ENCRYPTION_KEYS:
        raise ImproperlyConfigured(
            "DEBUG is off: set FIELD_ENCRYPTION_KEY to a Fernet key; make one with "
            "`DEBUG=True python manage.py generate_encryption_key`."
        )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_q",
    "axes",
    "sessions_app",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "glancedash.content_security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "sessions_app.timezones.UserTimezoneMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes requires
]

ROOT_URLCONF = "glancedash.urls"
WSGI_APPLICATION = "glancedash.wsgi.application"

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
                "sessions_app.context_processors.nav",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'glancedash.sqlite3'}"),
}
SQLITE = DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
if SQLITE:
    # WAL lets the web server read while a sync writes; IMMEDIATE takes the write lock at BEGIN,
    # so two writers queue on the busy timeout instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        # A 64 MB page cache per connection (the default is 2 MB): at a million sessions the
        # indexes a sync inserts into and the dashboard reads no longer fit the default.
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536; "
            "PRAGMA temp_store=MEMORY;"
        ),
        "transaction_mode": "IMMEDIATE",
        # Seconds a writer waits for another's write lock before "database is locked".
        "timeout": env.float("SQLITE_BUSY_TIMEOUT", default=30),
    }
    # A file, not memory, so tests can run a sync in a thread or a worker in a subprocess.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-glancedash.sqlite3")}
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses logins while a username+IP is locked out
    "django.contrib.auth.backends.ModelBackend",
]
# Failed-login throttling: after AXES_FAILURE_LIMIT failures for one username from one address,
# that pair is locked out for AXES_COOLOFF_MINUTES.
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Behind a reverse proxy: the proxies' addresses (or networks), and the header in which they pass
# on the client's address (sessions_app/client_address.py). Empty: REMOTE_ADDR is the client.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
CLIENT_ADDRESS_HEADER = env.str("CLIENT_ADDRESS_HEADER", default="X-Forwarded-For")
AXES_CLIENT_IP_CALLABLE = "sessions_app.accounts.client_address.client_address"
# How long an invitation to join a partner stays valid.
INVITATION_DAYS = env.int("INVITATION_DAYS", default=7)
# Password-reset requests, per client address and per email address, per hour.
PASSWORD_RESETS_PER_ADDRESS = env.int("PASSWORD_RESETS_PER_ADDRESS", default=10)
PASSWORD_RESETS_PER_EMAIL = env.int("PASSWORD_RESETS_PER_EMAIL", default=3)
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "overview"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns on every start without it
WHITENOISE_USE_FINDERS = DEBUG  # development serves static/ directly, no collectstatic needed
STATICFILES_DIRS = [BASE_DIR / "static"]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "sessions_app.staticfinders.PlotlyJsFinder",  # plotly.js from the installed plotly package
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Password-reset and welcome emails. The default prints them on the console.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="glancedash@localhost")
# Where this site is reached, for the links in emailed reports back to the live page.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3 * 24 * 3600)

REDIS_URL = env.str("REDIS_URL", default="")

# django-q2 runs the scheduled syncs. Without REDIS_URL its queue lives in the default database,
# so a laptop needs nothing else; with it, Redis is the broker and workers can run on many hosts.
Q_CLUSTER = {
    "name": "glancedash",
    "workers": env.int("Q_WORKERS", default=2),
    "timeout": env.int("Q_TASK_TIMEOUT", default=3600),  # a long backfill runs this long at most
    "retry": env.int("Q_TASK_TIMEOUT", default=3600) + 300,  # must exceed timeout
    "max_attempts": 1,  # a failed sync is retried by the next scheduled run, which resumes
    "catch_up": False,  # after downtime, one sync catches up; no burst of missed runs
    "save_limit": 1000,
    "ack_failures": True,
    "label": "Background tasks",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

# Chart data is cached per user, filter and data generation (charts.cached_chart). In one
# process's memory by default; in Redis when there is one, shared by every web worker.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "glancedash",
    }
    if not REDIS_URL
    else {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
}
CHART_CACHE_SECONDS = env.int("CHART_CACHE_SECONDS", default=3600)

# The Glance Activity Service. Defaults are what the real service is known or assumed to accept.
GLANCE_API_URL = env.str(
    "GLANCE_API_URL", default="https://www.glance.net/services/activityservice.asmx"
)
GLANCE_PAGE_SIZE = env.int("GLANCE_PAGE_SIZE", default=500)
# A sync writes its pages this many sessions at a time (a window's last pages sooner), in one
# transaction with their rollups: a write's statements and commit are paid once for them all.
# PostgreSQL only by default: on SQLite, writes of 5,000 sessions halved a 300,000-session
# backfill (1,831 sessions/s against 3,636 page by page; the cause is not yet known), so there
# each page is written as it arrives.
GLANCE_WRITE_BATCH = env.int("GLANCE_WRITE_BATCH", default=1 if SQLITE else 5000)
# Partner endpoints must be https:// unless this is on (the local simulator speaks http://).
# The dashboard reads rollup rows where the filter allows; off, it reads the raw sessions (the
# benchmark's naive baseline; the numbers are the same either way).
GLANCEDASH_ROLLUPS = env.bool("GLANCEDASH_ROLLUPS", default=True)
GLANCE_ALLOW_HTTP = env.bool("GLANCE_ALLOW_HTTP", default=DEBUG)
GLANCE_WINDOW_DAYS = env.int("GLANCE_WINDOW_DAYS", default=31)  # the service's range cap
GLANCE_LOOKBACK_HOURS = env.int("GLANCE_LOOKBACK_HOURS", default=48)
# Alert webhooks must be https:// outside development (the tests' receiver speaks plain http).
ALERT_WEBHOOK_ALLOW_HTTP = env.bool("ALERT_WEBHOOK_ALLOW_HTTP", default=DEBUG)
# Networks the server may call although they are not public (sessions_app/outbound.py): in
# development loopback, where the simulator runs; in production none unless listed here.
OUTBOUND_ALLOWED_ADDRESSES = env.list(
    "OUTBOUND_ALLOWED_ADDRESSES", default=["127.0.0.0/8", "::1/128"] if DEBUG else []
)
# Each synced UTC month is checked against Glance's own counts (completeness.py).
GLANCE_COMPLETENESS_CHECKS = env.bool("GLANCE_COMPLETENESS_CHECKS", default=True)
GLANCE_DEFAULT_BACKFILL_DAYS = env.int("GLANCE_DEFAULT_BACKFILL_DAYS", default=30)
GLANCE_CONNECT_TIMEOUT = env.float("GLANCE_CONNECT_TIMEOUT", default=10.0)
GLANCE_READ_TIMEOUT = env.float("GLANCE_READ_TIMEOUT", default=120.0)
GLANCE_MAX_RETRIES = env.int("GLANCE_MAX_RETRIES", default=5)
# The wallboard's live counts: the worker waits this long (connect, then read) and no longer.
# Formerly LIVE_COUNTS_TIMEOUT: that variable is still read, with a warning.
GLANCE_LIVE_COUNTS_TIMEOUT = renamed(
    env.float, "GLANCE_LIVE_COUNTS_TIMEOUT", "LIVE_COUNTS_TIMEOUT", default=5.0
)
GLANCE_BACKOFF_BASE = env.float("GLANCE_BACKOFF_BASE", default=1.0)  # seconds; doubles per retry
GLANCE_BACKOFF_MAX = env.float("GLANCE_BACKOFF_MAX", default=60.0)
# Longer than the worst single page call: (retries + 1) x read timeout + the backoffs between.
GLANCE_SYNC_LEASE_SECONDS = env.int("GLANCE_SYNC_LEASE_SECONDS", default=1800)
# The full pass, with the whole look-back, for new partners; beside it, every
# GLANCE_QUICK_SYNC_MINUTES (0: never), a quick pass over sessions started in the last
# GLANCE_QUICK_LOOKBACK_MINUTES puts a session that ended on the dashboard within two minutes.
GLANCE_DEFAULT_SYNC_MINUTES = env.int("GLANCE_DEFAULT_SYNC_MINUTES", default=60)
GLANCE_QUICK_SYNC_MINUTES = env.int("GLANCE_QUICK_SYNC_MINUTES", default=1)
GLANCE_QUICK_LOOKBACK_MINUTES = env.int("GLANCE_QUICK_LOOKBACK_MINUTES", default=60)
# An Excel export of more rows than this is built by a background job with a progress bar.
EXPORT_XLSX_INLINE_ROWS = env.int("EXPORT_XLSX_INLINE_ROWS", default=50_000)
EXPORT_KEEP_DAYS = env.int("EXPORT_KEEP_DAYS", default=7)
GLANCE_MAX_IMPORT_BYTES = env.int("GLANCE_MAX_IMPORT_BYTES", default=200 * 1024 * 1024)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django_q": {"level": env.str("Q_LOG_LEVEL", default="WARNING")},
        "axes": {"level": "WARNING"},  # it logs every successful login at INFO
        # Django's own console handler would print each of its lines a second time.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

# Production hardening; every value can be relaxed from the environment (e.g. behind a TLS proxy).
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    # Off only where nothing but loopback HTTP reaches the server (the load test, scripts/).
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
    if env.bool("USE_X_FORWARDED_PROTO", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
