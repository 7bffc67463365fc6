"""The one settings module. Everything that differs between machines comes from
environment variables (see .env.example and the README's configuration table).

Two modes:
- development (DEBUG=1, the default for `make run`): the embedded PostgreSQL
  server that `make run` starts (lending.embedded_db) unless DATABASE_URL is
  set, Celery tasks run in-process unless REDIS_URL is set, e-mail printed
  to the console, a fixed development encryption key.
- production (DEBUG=0): every secret must be given, cookies are secure, HSTS
  is on, and `manage.py check --deploy` reports nothing.
"""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def env_bool(name: str, default: bool) -> bool:
    value = env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in (env(name, default) or "").split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)
TESTING = env_bool("TESTING", False)

# Development-only fallbacks. Production refuses to start without real values.
_DEV_SECRET_KEY = "dev-insecure-secret-key-change-me-0123456789abcdefghijklmnopqrstuvwxyz"  # noqa: S105
_DEV_FIELD_KEY = "ZGV2LW9ubHktZmllbGQta2V5LWRvLW5vdC11c2UtISE="

SECRET_KEY = env("SECRET_KEY", _DEV_SECRET_KEY if DEBUG else None)
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # third party
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "pgtrigger",
    "django_celery_beat",
    # ours, bottom layer first
    "core",
    "users",
    "customers",
    "servicing",
    "origination",
    "arrears",
    "reporting",
    # top layer: cross-app management commands (load_demo)
    "lending",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "core.middleware.RequestContextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "core.middleware.AuditUserMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Under DEBUG, the product's 404 page instead of Django's URL listing.
    "core.middleware.ProductNotFoundMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so that it sees the final response of the authentication views.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "lending.urls"
WSGI_APPLICATION = "lending.wsgi.application"
ASGI_APPLICATION = "lending.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.platform",
                "users.context_processors.navigation",
            ],
            # {{ amount|money }} on every page and document, without {% load %}.
            "builtins": ["core.templatetags.money"],
        },
    },
]

# --- Database ---------------------------------------------------------------
# PostgreSQL only. DATABASE_URL names the server; without it (development
# only) the app uses the embedded server `make run` starts in var/pgdata while
# it is running, so manage.py commands in a second terminal reach the demo.
DATABASE_URL = env("DATABASE_URL")
if DATABASE_URL is None and DEBUG:
    from lending import embedded_db

    DATABASE_URL = embedded_db.url()
if DATABASE_URL is None:
    raise ImproperlyConfigured(
        "DATABASE_URL must be set when DEBUG is off."
        if not DEBUG
        else "DATABASE_URL is not set and the embedded PostgreSQL of `make run` is not "
        "running. Run `make run` (it starts one in var/pgdata), or set DATABASE_URL to a "
        "PostgreSQL server, e.g. postgres://postgres@127.0.0.1:5432/lending."
    )
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    scheme = DATABASE_URL.split(":", 1)[0]
    raise ImproperlyConfigured(
        f"DATABASE_URL must name a PostgreSQL server (postgres://...), not {scheme}:."
    )
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"].setdefault("TEST", {})["NAME"] = env("TEST_DATABASE_NAME", "test_lending")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and Redis ---------------------------------------------------------
REDIS_URL = env("REDIS_URL")
_XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if TESTING and REDIS_URL and _XDIST_WORKER.startswith("gw"):
    # Each pytest-xdist worker gets a Redis database of its own, as it gets a
    # PostgreSQL database of its own: a test that empties or consumes the
    # Celery queue (a real worker process) never sees another worker's tasks.
    # gw0 keeps the given database, gw1 the one below it, and so on.
    _redis = urlsplit(REDIS_URL)
    _redis_db = (int(_redis.path.lstrip("/") or 0) - int(_XDIST_WORKER[2:])) % 16
    REDIS_URL = urlunsplit(_redis._replace(path=f"/{_redis_db}"))
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", "lending"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery ------------------------------------------------------------------
# With no REDIS_URL there is no broker: tasks run in-process (eagerly), which
# is what `make run` does on a machine without Redis.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = int(env("CELERY_TASK_TIME_LIMIT", "600"))
CELERY_TASK_SOFT_TIME_LIMIT = int(env("CELERY_TASK_SOFT_TIME_LIMIT", "540"))
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# The static schedule: synced into django-celery-beat's tables by the
# DatabaseScheduler at start. End-of-day steps are added here as they land.
CELERY_BEAT_SCHEDULE: dict = {
    # End of day for today's business date (core.eod); it advances the date.
    "end-of-day": {
        "task": "core.run_end_of_day",
        "schedule": crontab(hour=23, minute=30),
        "kwargs": {"source": "beat"},  # recorded on the run, shown on its page
    },
    # Starts again an end-of-day run that no worker is working on (all its
    # workers died); a no-op otherwise (core.tasks.eod_kick_task).
    "end-of-day-watchdog": {
        "task": "core.eod_kick",
        "schedule": timedelta(minutes=1),
    },
}

# --- Authentication ----------------------------------------------------------
AUTH_USER_MODEL = "users.User"
AUTHENTICATION_BACKENDS = [
    # Axes first: it refuses locked-out credentials before any password check.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "users:login"
LOGIN_REDIRECT_URL = "staff-home"
LOGOUT_REDIRECT_URL = "users:login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 3

# Login throttling: five failures for one username from one address locks
# that pair out for fifteen minutes.
AXES_FAILURE_LIMIT = int(env("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(env("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "users/locked_out.html"
AXES_VERBOSE = False
AXES_IPWARE_PROXY_COUNT = int(env("PROXY_COUNT", "0")) or None

OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", "Lending Platform")

# --- Sessions, cookies, security ---------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = int(env("SESSION_COOKIE_AGE", str(60 * 60 * 8)))
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the cookie-free meta tag instead
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # /healthz is probed over plain HTTP by the load balancer and compose.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# --- Field encryption ----------------------------------------------------------
# Comma-separated Fernet keys, newest first: the first encrypts, all decrypt,
# so a key can be rotated by prepending a new one.
FIELD_ENCRYPTION_KEY = env("FIELD_ENCRYPTION_KEY", _DEV_FIELD_KEY if DEBUG else None)
if not FIELD_ENCRYPTION_KEY:
    raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY must be set when DEBUG is off.")
# Key of the HMAC blind index used to find duplicate tax ids without
# decrypting. It must never change once data exists (rotating it means
# re-indexing), so it is separate from the rotating encryption keys.
FIELD_HASH_KEY = env("FIELD_HASH_KEY", "dev-only-blind-index-key" if DEBUG else None)
if not FIELD_HASH_KEY:
    raise ImproperlyConfigured("FIELD_HASH_KEY must be set when DEBUG is off.")

# --- E-mail ------------------------------------------------------------------
EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = int(env("EMAIL_PORT", "25"))
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Lending Platform <no-reply@lending.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Internationalisation ------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", "America/New_York")
USE_I18N = True
USE_TZ = True

# --- Static and media ---------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- REST API ------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "users.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["users.permissions.ApiAccess"],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "COERCE_DECIMAL_TO_STRING": True,
    "DEFAULT_VERSIONING_CLASS": None,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append(
        "rest_framework.renderers.BrowsableAPIRenderer"
    )

SPECTACULAR_SETTINGS = {
    "TITLE": "Lending Platform API",
    "DESCRIPTION": (
        "Loan origination and servicing API. Authenticate with an API key "
        "(`Authorization: Api-Key <key>`) issued by an administrator, with scopes, "
        "or with a browser session. Every error has the shape "
        "`{code, message, fields}`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ApplicationPurposeEnum": "origination.models.Application.Purpose",
        "ConsentPurposeEnum": "customers.models.Consent.Purpose",
    },
}

# --- Logging -------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}
    },
    "filters": {"request_id": {"()": "core.middleware.RequestIdLogFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

# --- Platform ------------------------------------------------------------------
PLATFORM_NAME = env("PLATFORM_NAME", "Lending Platform")
# How many proxies sit in front of the app; decides which X-Forwarded-For
# entry is the client's address for audit rows.
PROXY_COUNT = int(env("PROXY_COUNT", "0"))

# --- ACH (NACHA files for autopay debits) ---------------------------------------
# Off until set: autopay collection refuses to run without an originating bank.
ACH_ODFI_ROUTING = env("ACH_ODFI_ROUTING")
ACH_DESTINATION_ROUTING = env("ACH_DESTINATION_ROUTING")
ACH_DESTINATION_NAME = env("ACH_DESTINATION_NAME")
ACH_ORIGIN_NAME = env("ACH_ORIGIN_NAME")
ACH_COMPANY_NAME = env("ACH_COMPANY_NAME")
ACH_COMPANY_ID = env("ACH_COMPANY_ID")

# --- E-signature (origination/esign.py) -------------------------------------------
# The platform's document-signing key: a PEM/DER key + certificate, or a PKCS#12
# bundle in ESIGN_KEY_FILE alone. Unset, a self-signed certificate is made per process.
ESIGN_KEY_FILE = env("ESIGN_KEY_FILE")
ESIGN_CERT_FILE = env("ESIGN_CERT_FILE")
ESIGN_KEY_PASSPHRASE = env("ESIGN_KEY_PASSPHRASE")

# Card/bank payments from the borrower portal: "test" is the built-in,
# deterministic test gateway (rails/gateway.py).
PAYMENT_GATEWAY = env("PAYMENT_GATEWAY", "test")

# --- Origination decisioning (origination/services/decision.py) -------------------
# Dotted path of the credit bureau adapter class; the simulated bureau is
# deterministic per identity (development, demos, tests).
# Seconds before the first bureau retry, doubling per attempt (0 in tests).
BUREAU_RETRY_BASE_SECONDS = float(env("BUREAU_RETRY_BASE_SECONDS", "0" if TESTING else "0.25"))
BUREAU_ADAPTER = env("BUREAU_ADAPTER", "origination.decisioning.simulated.SimulatedBureau")
# Largest applicant document upload, in bytes.
ORIGINATION_MAX_UPLOAD_BYTES = int(env("ORIGINATION_MAX_UPLOAD_BYTES", str(10 * 1024 * 1024)))

# --- Lender identity on disclosures, agreements and notices (origination) -------
# LENDER_NAME unset: PLATFORM_NAME. LENDER_ADDRESS: lines separated by "|".
LENDER_NAME = env("LENDER_NAME", "")
LENDER_ADDRESS = [line.strip() for line in env("LENDER_ADDRESS", "").split("|") if line.strip()]
LENDER_PHONE = env("LENDER_PHONE", "")
LENDER_EMAIL = env("LENDER_EMAIL", "")
LENDER_GOVERNING_LAW = env("LENDER_GOVERNING_LAW", "the State of New York")
