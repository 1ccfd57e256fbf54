"""Settings from the environment (12-factor) with development defaults."""

from pathlib import Path

import environ
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# Off unless the environment turns it on (`make run` does, for development): forgetting a
# variable must never run production in debug mode.
DEBUG = env.bool("DEBUG", default=False)

DEVELOPMENT_SECRET_KEY = "django-insecure-development-only-key"
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = DEVELOPMENT_SECRET_KEY
# Rotation: the new key in SECRET_KEY, the old ones here (comma-separated) until the
# sessions, reset links and confirmations signed with them have expired.
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])
# `seed_demo` loads its demo users (public password) only when this is on: by default in
# development (DEBUG), never in production unless asked for.
DEMO_DATA = env.bool("DEMO_DATA", default=DEBUG)

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://localhost:8000")
# How long an account confirmation link works (seconds; default 3 days).
ACCOUNT_CONFIRMATION_MAX_AGE = env.int("ACCOUNT_CONFIRMATION_MAX_AGE", default=3 * 24 * 3600)
# How long an invitation to a unit works (seconds; default 7 days).
INVITATION_MAX_AGE = env.int("INVITATION_MAX_AGE", default=7 * 24 * 3600)
# How long a password reset link works (seconds; default 1 hour).
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3600)

INSTALLED_APPS = [
    "apps.core.apps.AdminConfig",  # the propmgmt admin site (per-role index)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_prometheus",
    "csp",
    "apps.core",
    "apps.accounts",
    "apps.registration",
    "apps.properties",
    "apps.messaging",
    "apps.assets",
    "apps.visitors",
    "apps.repairs",
    "apps.complaints",
    "apps.notifications",
    "apps.announcements",
    "apps.amenities",
    "apps.front_desk",
    "apps.reporting",
    "apps.ops",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "apps.core.middleware.ApiJsonErrorsMiddleware",
    "apps.core.middleware.RequestBodyLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "apps.messaging.middleware.CorrelationIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

# Largest request body accepted (bytes); larger ones get 413 before any view reads them.
REQUEST_MAX_BODY_BYTES = env.int("REQUEST_MAX_BODY_BYTES", default=1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = REQUEST_MAX_BODY_BYTES

ROOT_URLCONF = "propmgmt.urls"
WSGI_APPLICATION = "propmgmt.wsgi.application"
ASGI_APPLICATION = "propmgmt.asgi.application"

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

DATABASES = {
    "default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/propmgmt"),
}
# A new connection per request cost 5-6x throughput (measured by the founders with
# password auth; docs/ARCHITECTURE.md "Traps").
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# Shared by every web worker and process (throttle counts, locks): Redis, not local memory.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env.str("REDIS_URL", default="redis://127.0.0.1:6379/0"),
        "KEY_PREFIX": "propmgmt",
    }
}

AUTH_USER_MODEL = "accounts.User"
# Which properties a user works at (per area of work): what the admin scopes every page,
# choice, filter and lookup to (apps/core/admin.py, ScopedAdminMixin).
ADMIN_PROPERTY_SCOPE = "apps.properties.selectors.properties_in_area"
# Passwords via ModelBackend under the login lockout; model permissions from the user's role.
AUTHENTICATION_BACKENDS = [
    "apps.accounts.backends.LockoutModelBackend",
    "apps.accounts.backends.RolePermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Email: console in development; SMTP when EMAIL_URL says so (e.g. smtp://user:pw@host:587).
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="propmgmt <noreply@localhost>")
# Seconds an SMTP connect or reply may take (Django has no limit by default): a hung
# mail server fails the attempt instead of holding a worker until its time limit.
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT", default=30.0)

# Security headers; the secure-cookie and HTTPS settings follow DEBUG so that
# `check --deploy` passes in production and development still works over HTTP.
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
# How many reverse proxies are in front of the web process, each appending the address it
# received the request from to X-Forwarded-For (apps/core/client.py). 0 (the default): the
# client is the connection's peer and no X-Forwarded-* header is believed. A count rather
# than a list of proxy addresses because it is what DRF's NUM_PROXIES means, and it needs
# no update when a container network renumbers the proxy; in exchange the web port must be
# reachable only through the proxies (WEB_BIND, the firewall), as README "Security" says.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or more.")
# Only a trusted proxy may say the client's connection was HTTPS.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUSTED_PROXY_COUNT else None
# Content-Security-Policy (django-csp) on every response: script only from our own static
# files, never inline (a value that escapes into an inline handler cannot run). Inline
# styles stay allowed: the admin and Swagger UI set style attributes, and a style cannot
# run script. Images may be data: URLs (Swagger UI's icons).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_FILTER_BACKENDS": [
        "apps.core.filters.FilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "apps.core.openapi.ErrorDocumentingAutoSchema",
    "EXCEPTION_HANDLER": "apps.core.api.exception_handler",
    # DRF's own reading of X-Forwarded-For follows the one setting (the project's throttles
    # use apps.core.client directly).
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "DEFAULT_THROTTLE_RATES": {
        "auth": env.str("AUTH_THROTTLE_RATE", default="20/min"),
    },
}

# API tokens expire this many seconds after login (default 30 days); log out revokes one,
# log out everywhere, any new password and deactivation revoke all of a user's tokens.
TOKEN_TTL = env.int("TOKEN_TTL", default=30 * 24 * 3600)
# Login throttling (apps/accounts/throttling.py): failures counted in the shared cache
# within LOGIN_FAILURE_WINDOW seconds; at the limit the account (or the client address)
# is locked for LOGIN_LOCKOUT_SECONDS, doubling with every further failure up to the max.
LOGIN_FAILURES_PER_ACCOUNT = env.int("LOGIN_FAILURES_PER_ACCOUNT", default=5)
LOGIN_FAILURES_PER_ADDRESS = env.int("LOGIN_FAILURES_PER_ADDRESS", default=20)
LOGIN_FAILURE_WINDOW = env.int("LOGIN_FAILURE_WINDOW", default=24 * 3600)
LOGIN_LOCKOUT_SECONDS = env.int("LOGIN_LOCKOUT_SECONDS", default=60)
LOGIN_LOCKOUT_MAX_SECONDS = env.int("LOGIN_LOCKOUT_MAX_SECONDS", default=3600)

SPECTACULAR_SETTINGS = {
    "TITLE": "propmgmt API",
    "DESCRIPTION": "Residents, visitors, repairs, complaints and notifications.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several apps have "category"/"status" choice fields: name them apart.
    "ENUM_NAME_OVERRIDES": {
        "RepairCategoryEnum": "apps.repairs.models.RepairCategory",
        "RepairStatusEnum": "apps.repairs.models.RepairStatus",
        "RepairUrgencyEnum": "apps.repairs.models.RepairUrgency",
        "ComplaintCategoryEnum": "apps.complaints.models.ComplaintCategory",
        "ComplaintStatusEnum": "apps.complaints.models.ComplaintStatus",
        "AssetCategoryEnum": "apps.assets.models.Asset.Category",
        "AssetStatusEnum": "apps.assets.models.Asset.Status",
        "VisitorStatusEnum": "apps.visitors.models.VisitorStatus",
        "NotificationCategoryEnum": "apps.notifications.models.Category",
        "NotificationStatusEnum": "apps.notifications.models.Status",
        "NotificationChannelEnum": "apps.notifications.models.Channel",
        "AnnouncementCategoryEnum": "apps.announcements.models.AnnouncementCategory",
        "AnnouncementStatusEnum": "apps.announcements.models.AnnouncementStatus",
        "AnnouncementAudienceEnum": "apps.announcements.models.Audience",
        "ReservationStatusEnum": "apps.amenities.models.ReservationStatus",
        "AmenityKindEnum": "apps.amenities.models.AmenityKind",
        "ParcelStatusEnum": "apps.front_desk.models.ParcelStatus",
        "ParcelCarrierEnum": "apps.front_desk.models.Carrier",
        "ParcelSizeEnum": "apps.front_desk.models.ParcelSize",
        "MoveOutStatusEnum": "apps.properties.models.MoveOutStatus",
    },
}

# Celery: the broker topology and worker policy live in celeryconfig.py; only the
# connection comes from here.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="amqp://guest:guest@localhost:5672//")
RABBITMQ_MANAGEMENT_URL = env.str(
    "RABBITMQ_MANAGEMENT_URL", default="http://guest:guest@localhost:15672"
)
FLOWER_URL = env.str("FLOWER_URL", default="http://localhost:5555")
# quorum or classic: the type of every queue celeryconfig.py declares (README).
BROKER_QUEUE_TYPE = env.str("BROKER_QUEUE_TYPE", default="classic")

# Outbox relay: woken by NOTIFY at each commit that wrote outbox rows, it also sweeps
# every interval (delayed rows, backoff, a missed notification); how long a publish may
# wait on the broker.
OUTBOX_RELAY_INTERVAL = env.float("OUTBOX_RELAY_INTERVAL", default=1.0)
OUTBOX_RELAY_BATCH = env.int("OUTBOX_RELAY_BATCH", default=500)
BROKER_PUBLISH_TIMEOUT = env.float("BROKER_PUBLISH_TIMEOUT", default=2.0)
# A row the broker refuses this many times (unroutable, channel error) is parked for an
# operator instead of being retried forever.
OUTBOX_MAX_PUBLISH_ATTEMPTS = env.int("OUTBOX_MAX_PUBLISH_ATTEMPTS", default=10)

# Operations: /readyz/ thresholds and /metrics access (README "Health and metrics").
OPS_QUEUE_STATUS_CACHE_SECONDS = env.float("OPS_QUEUE_STATUS_CACHE_SECONDS", default=5.0)
OPS_OUTBOX_MAX_AGE = env.float("OPS_OUTBOX_MAX_AGE", default=60.0)
OPS_DEAD_LETTER_WINDOW = env.float("OPS_DEAD_LETTER_WINDOW", default=300.0)
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_ADDRESSES = env.list("METRICS_ALLOWED_ADDRESSES", default=["127.0.0.1", "::1"])

# One log format for web, relay, workers and beat (README "Health, metrics and logs");
# LOG_FORMAT=json writes JSON lines with the same fields. Fields a line does not have are "-".
LOG_FORMAT = env.str("LOG_FORMAT", default="text")
_LOG_FIELDS = (
    "%(asctime)s %(levelname)s %(process)d %(correlation_id)s %(queue)s %(task_name)s "
    "%(message_id)s %(name)s %(message)s"
)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"correlation_id": {"()": "apps.messaging.correlation.CorrelationIdFilter"}},
    "formatters": {
        "text": {
            "format": "%(asctime)s %(levelname)s %(process)d %(queue)s %(task_name)s"
            "[%(message_id)s] [%(correlation_id)s] %(name)s: %(message)s",
        },
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": _LOG_FIELDS,
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["correlation_id"],
            "formatter": "json" if LOG_FORMAT == "json" else "text",
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # A failing readiness check is in the /readyz/ answer; no traceback per poll.
    "loggers": {
        "health_check": {"level": "ERROR"},
        # One line per message published (about 0.1 ms each here): WARNING turns them off
        # where relay throughput matters more than finding rows in the logs.
        "apps.messaging.published": {"level": env.str("LOG_PUBLISHED_LEVEL", default="INFO")},
    },
}
MESSAGE_MAX_REDELIVERIES = env.int("MESSAGE_MAX_REDELIVERIES", default=3)
# How long published outbox rows and idempotency-ledger rows are kept (beat prunes them).
OUTBOX_RETENTION_DAYS = env.int("OUTBOX_RETENTION_DAYS", default=7)
LEDGER_RETENTION_DAYS = env.int("LEDGER_RETENTION_DAYS", default=30)
# Why messages were dead-lettered; notifications that reached a final state (sent,
# failed) and, sooner, their status history; API tokens after they expired.
MESSAGE_FAILURE_RETENTION_DAYS = env.int("MESSAGE_FAILURE_RETENTION_DAYS", default=90)
NOTIFICATION_RETENTION_DAYS = env.int("NOTIFICATION_RETENTION_DAYS", default=365)
NOTIFICATION_HISTORY_RETENTION_DAYS = env.int("NOTIFICATION_HISTORY_RETENTION_DAYS", default=90)
API_TOKEN_EXPIRED_RETENTION_DAYS = env.int("API_TOKEN_EXPIRED_RETENTION_DAYS", default=7)
# Pruning deletes in chunks of this many rows, each its own transaction, and stops after
# this many seconds (inside the task's 240 s soft limit); the next run goes on.
PRUNE_CHUNK_ROWS = env.int("PRUNE_CHUNK_ROWS", default=5000)
PRUNE_MAX_SECONDS = env.float("PRUNE_MAX_SECONDS", default=180.0)
# Scheduled duties: resolved repairs close by themselves after this many days (unless
# reopened); the nightly reconciliation recomputes this many past days of reports.
REPAIR_AUTO_CLOSE_DAYS = env.int("REPAIR_AUTO_CLOSE_DAYS", default=14)
REPORT_RECONCILE_DAYS = env.int("REPORT_RECONCILE_DAYS", default=2)


# Notifications: channel backends and the delivery consumer's retry policy.
# Email goes through Django's email framework (EMAIL_URL) unless
# NOTIFICATION_EMAIL_BACKEND names another backend (e.g. the file-based one).
NOTIFICATION_EMAIL_BACKEND = env.str("NOTIFICATION_EMAIL_BACKEND", default="")
NOTIFICATION_EMAIL_FILE_PATH = env.str("NOTIFICATION_EMAIL_FILE_PATH", default="")
# apps.notifications.channels.ConsoleSmsBackend (development: log + a line in
# SMS_FILE_PATH) or apps.notifications.channels.WebhookSmsBackend (POST to SMS_WEBHOOK_URL).
NOTIFICATION_SMS_BACKEND = env.str(
    "NOTIFICATION_SMS_BACKEND", default="apps.notifications.channels.ConsoleSmsBackend"
)
SMS_FILE_PATH = env.str("SMS_FILE_PATH", default=str(BASE_DIR / "var" / "sms.log"))
SMS_WEBHOOK_URL = env.str("SMS_WEBHOOK_URL", default="")
SMS_WEBHOOK_TIMEOUT = env.float("SMS_WEBHOOK_TIMEOUT", default=5.0)
# Sent as `Authorization: Bearer <token>` so the provider can refuse anyone else.
SMS_WEBHOOK_TOKEN = env.str("SMS_WEBHOOK_TOKEN", default="")
# Notifications per delivery message (one outbox row, one consumer run, one SMTP
# connection). SMS batches are smaller: each is one provider call in turn, and a batch
# must finish well inside the task's soft time limit even with a slow provider.
# The send API sends free text: by default only to the users of the sender's properties (by
# id or by their address), so it is no open relay; on, to any email address or phone number.
NOTIFICATION_SEND_ANY_ADDRESS = env.bool("NOTIFICATION_SEND_ANY_ADDRESS", default=False)
NOTIFICATION_BATCH_SIZE = env.int("NOTIFICATION_BATCH_SIZE", default=100)
NOTIFICATION_SMS_BATCH_SIZE = env.int("NOTIFICATION_SMS_BATCH_SIZE", default=20)
NOTIFICATION_MAX_RETRIES = env.int("NOTIFICATION_MAX_RETRIES", default=5)
# Exponential backoff factor in whole seconds (0 retries at once; tests use it).
NOTIFICATION_RETRY_BACKOFF = env.int("NOTIFICATION_RETRY_BACKOFF", default=2)
NOTIFICATION_RETRY_BACKOFF_MAX = env.int("NOTIFICATION_RETRY_BACKOFF_MAX", default=300)
# A batch stops at this soft time limit (seconds; unset: the workers' 240 s), recording
# what was sent and re-queueing the rest (docs/MESSAGING.md).
NOTIFICATION_SOFT_TIME_LIMIT = env.int("NOTIFICATION_SOFT_TIME_LIMIT", default=None)
# Outcome unknown (an attempt whose result was never recorded, to a provider that
# honours no idempotency key): at most once by default, an operator resends. The
# categories listed here are at least once instead: resent automatically this many
# seconds later, marked as a possible duplicate, up to this many copies.
NOTIFICATION_RESEND_UNKNOWN_CATEGORIES = env.list(
    "NOTIFICATION_RESEND_UNKNOWN_CATEGORIES", default=["emergency"]
)
NOTIFICATION_UNKNOWN_RESEND_AFTER = env.int("NOTIFICATION_UNKNOWN_RESEND_AFTER", default=60)
NOTIFICATION_UNKNOWN_MAX_RESENDS = env.int("NOTIFICATION_UNKNOWN_MAX_RESENDS", default=2)

# Announcements: recipients per fan-out message, and the per-user hourly throttle of
# non-emergency announcements (what is over it is folded into one digest).
ANNOUNCEMENT_BATCH_SIZE = env.int("ANNOUNCEMENT_BATCH_SIZE", default=500)
ANNOUNCEMENT_THROTTLE_PER_HOUR = env.int("ANNOUNCEMENT_THROTTLE_PER_HOUR", default=5)
