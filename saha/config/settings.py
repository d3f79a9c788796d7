"""Saha's one settings module, driven by the environment (see docs/operators.md).

Every value comes from an environment variable through `saha.config.env`, which
raises ImproperlyConfigured on a bad value instead of guessing.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from saha.config import env

PACKAGE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env.get_str("SAHA_VAR_DIR") or Path.cwd() / "var").resolve()

DEBUG = env.get_bool("SAHA_DEBUG", False)
SECRET_KEY = env.secret_key(VAR_DIR)
# Old keys still accepted after a rotation (sessions, reset links, MFA secrets).
SECRET_KEY_FALLBACKS = env.get_list("SECRET_KEY_FALLBACKS", [])
ALLOWED_HOSTS = env.get_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.get_list("CSRF_TRUSTED_ORIGINS", [])
# The address people reach Saha at: links in emails are built from it.
SAHA_BASE_URL = env.get_str("SAHA_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
if not SAHA_BASE_URL.startswith(("http://", "https://")) or SAHA_BASE_URL[-3:] == "://":
    raise ImproperlyConfigured("SAHA_BASE_URL must be an http:// or https:// address.")

# --- Applications -----------------------------------------------------------

INSTALLED_APPS = [
    "saha.core",
    "saha.accounts",
    "saha.organizations",
    "saha.supporters",
    "saha.messaging",
    "saha.events",
    "saha.petitions",
    "saha.statements",
    "saha.campaigns",
    "saha.volunteers",
    "saha.api",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "django_tasks",
    "django_tasks_db",
    "rest_framework",
    "drf_spectacular",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "saha.core.middleware.LanguageFromQueryMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "saha.accounts.middleware.SessionActivityMiddleware",
    "saha.core.middleware.DomainErrorMiddleware",
]

ROOT_URLCONF = "saha.config.urls"
WSGI_APPLICATION = "saha.config.wsgi.application"
AUTH_USER_MODEL = "accounts.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "saha.core.context_processors.saha",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------

DATABASE_URL = env.get_str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'saha.sqlite3'}"
try:
    _db = dj_database_url.parse(
        DATABASE_URL, conn_max_age=env.get_int("DB_CONN_MAX_AGE", 60, minimum=0)
    )
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is not understood: {exc}") from None
if _db["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    _db["CONN_MAX_AGE"] = 0
    _db["OPTIONS"] = {
        # WAL lets readers proceed while one writer writes; IMMEDIATE takes the
        # write lock at BEGIN so two writers queue on the busy timeout instead of
        # deadlocking on a lock upgrade.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": env.get_int("SQLITE_BUSY_TIMEOUT", 20, minimum=1),
    }
elif _db["ENGINE"] == "django.db.backends.postgresql":
    _db["CONN_HEALTH_CHECKS"] = True
else:
    raise ImproperlyConfigured("DATABASE_URL must point to PostgreSQL or SQLite.")
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, sessions --------------------------------------------------------

REDIS_URL = env.get_str("REDIS_URL")
if REDIS_URL:
    if not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured("REDIS_URL must start with redis://, rediss:// or unix://.")
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "saha",
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Internationalization -----------------------------------------------------

ALL_LANGUAGES = {"ar": _("Arabic"), "en": _("English"), "fr": _("French")}
_languages = env.get_list("SAHA_LANGUAGES", ["ar", "en", "fr"])
if not _languages:
    raise ImproperlyConfigured("SAHA_LANGUAGES must name at least one language: ar, en, fr.")
for _code in _languages:
    if _code not in ALL_LANGUAGES:
        raise ImproperlyConfigured(
            f"SAHA_LANGUAGES has {_code!r}; Saha speaks {', '.join(ALL_LANGUAGES)}."
        )
LANGUAGES = [(code, ALL_LANGUAGES[code]) for code in _languages]
LANGUAGE_CODE = env.get_str("SAHA_DEFAULT_LANGUAGE", _languages[0])
if LANGUAGE_CODE not in _languages:
    raise ImproperlyConfigured("SAHA_DEFAULT_LANGUAGE must be one of SAHA_LANGUAGES.")
LANGUAGE_COOKIE_NAME = "saha_language"
LANGUAGE_COOKIE_SAMESITE = "Lax"
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
# Arabic date-and-time formats Django lacks (saha/formats/ar/formats.py).
FORMAT_MODULE_PATH = ["saha.formats"]
USE_TZ = True
TIME_ZONE = env.get_str("TIME_ZONE", "Asia/Beirut")
try:
    import zoneinfo

    zoneinfo.ZoneInfo(TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError):
    raise ImproperlyConfigured(f"TIME_ZONE={TIME_ZONE!r} is not a known time zone.") from None
SAHA_PHONE_REGION = env.get_str("SAHA_PHONE_REGION", "LB")
if not (
    len(SAHA_PHONE_REGION) == 2 and SAHA_PHONE_REGION.isalpha() and SAHA_PHONE_REGION.isupper()
):
    raise ImproperlyConfigured("SAHA_PHONE_REGION must be a two-letter country code, such as LB.")

# CSV imports wait here between upload and import; web and worker processes
# must share it (a shared volume when they run on different hosts).
SAHA_IMPORT_DIR = Path(env.get_str("SAHA_IMPORT_DIR") or VAR_DIR / "imports")
SAHA_IMPORT_MAX_MB = env.get_int("SAHA_IMPORT_MAX_MB", 512)

# --- Messaging: the outbox ----------------------------------------------------
# How long a worker holds the deliveries it claimed; one that stays silent
# longer is presumed dead and its deliveries are reclaimed (see outbox.py).
SAHA_OUTBOX_LEASE_SECONDS = env.get_int("SAHA_OUTBOX_LEASE_SECONDS", 120, minimum=2)
# Deliveries claimed at once, and handed to the provider between two commits:
# the second is the most a worker's crash can leave with an unknown outcome.
SAHA_OUTBOX_BATCH = env.get_int("SAHA_OUTBOX_BATCH", 500, minimum=1)
SAHA_OUTBOX_CHUNK = env.get_int("SAHA_OUTBOX_CHUNK", 50, minimum=1)
# What to do with a message whose outcome is unknown when the provider cannot
# be asked: "resend" (with the same Message-ID) or "fail".
SAHA_UNKNOWN_OUTCOME = env.get_choice("SAHA_UNKNOWN_OUTCOME", "resend", ["resend", "fail"])
# Drains started side by side for a broadcast (each needs a free worker).
SAHA_OUTBOX_WORKERS = env.get_int("SAHA_OUTBOX_WORKERS", 2, minimum=1)
SAHA_UNSUBSCRIBE_MAILTO = env.get_str("SAHA_UNSUBSCRIBE_MAILTO")
SAHA_BOUNCE_LIMIT = env.get_int("SAHA_BOUNCE_LIMIT", 2, minimum=1)
SAHA_SEND_ATTEMPTS = env.get_int("SAHA_SEND_ATTEMPTS", 6, minimum=1)

# Event maps: the tile server a visitor's browser asks, only once they press "Show map".
SAHA_MAP_TILES = env.get_str("SAHA_MAP_TILES", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
if not SAHA_MAP_TILES.startswith(("https://", "/")) or "{z}" not in SAHA_MAP_TILES:
    raise ImproperlyConfigured(
        "SAHA_MAP_TILES must be an https:// (or same-site /) URL template with {z}, {x} and {y}."
    )
# The credit line the tile server asks for (HTML, trusted); unset: OpenStreetMap's for its tiles.
SAHA_MAP_ATTRIBUTION = env.get_str("SAHA_MAP_ATTRIBUTION") or None

# Petitions: sign attempts per client address and per email address, and the
# proof-of-work challenge ("auto": on for a petition under a flood).
SAHA_PETITION_IP_LIMIT = env.get_int("SAHA_PETITION_IP_LIMIT", 10, minimum=1)
SAHA_PETITION_EMAIL_LIMIT = env.get_int("SAHA_PETITION_EMAIL_LIMIT", 3, minimum=1)
SAHA_PETITION_FLOOD_THRESHOLD = env.get_int("SAHA_PETITION_FLOOD_THRESHOLD", 100, minimum=1)
SAHA_PETITION_CHALLENGE = env.get_choice(
    "SAHA_PETITION_CHALLENGE", "auto", ["auto", "always", "never"]
)
SAHA_PETITION_POW_DIFFICULTY = env.get_int("SAHA_PETITION_POW_DIFFICULTY", 16, minimum=1)

# --- Static and media files ---------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# In development and tests, serve straight from the source tree (no collectstatic).
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.get_str("SAHA_MEDIA_ROOT") or VAR_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Email --------------------------------------------------------------------

globals().update(env.email_config(env.get_str("EMAIL_URL"), VAR_DIR))
DEFAULT_FROM_EMAIL = env.get_str("DEFAULT_FROM_EMAIL", "Saha <saha@localhost>")
if "@" not in DEFAULT_FROM_EMAIL:
    raise ImproperlyConfigured(
        "DEFAULT_FROM_EMAIL must be an address, such as Saha <saha@example.org>."
    )
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Outgoing email is DKIM-signed when all three are set (docs/messaging-providers.md).
SAHA_DKIM_KEY_FILE = env.get_str("SAHA_DKIM_KEY_FILE")
SAHA_DKIM_SELECTOR = env.get_str("SAHA_DKIM_SELECTOR")
SAHA_DKIM_DOMAIN = env.get_str("SAHA_DKIM_DOMAIN")
_dkim = [SAHA_DKIM_KEY_FILE, SAHA_DKIM_SELECTOR, SAHA_DKIM_DOMAIN]
if any(_dkim) and not all(_dkim):
    raise ImproperlyConfigured(
        "SAHA_DKIM_KEY_FILE, SAHA_DKIM_SELECTOR and SAHA_DKIM_DOMAIN go together: "
        "set all three or none."
    )
# SMS: console by default; see env.sms_config for the SMS_URL forms.
globals().update(env.sms_config(env.get_str("SMS_URL"), VAR_DIR, env.get_str("SMS_BODY_TEMPLATE")))
# Messages per second the outbox hands each channel's provider (0: no limit).
EMAIL_RATE = env.get_int("SAHA_EMAIL_RATE", 0, minimum=0)
SMS_RATE = env.get_int("SAHA_SMS_RATE", 0, minimum=0)

# --- Accounts (django-allauth) ------------------------------------------------

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "organizations:home"
ACCOUNT_ADAPTER = "saha.accounts.adapter.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Saha] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if env.get_bool("SAHA_HTTPS", False) else "http"
# Failed sign-ins: 10 a minute per address and SAHA_LOGIN_ATTEMPTS per 5
# minutes per account; past either, allauth refuses further tries.
SAHA_LOGIN_ATTEMPTS = env.get_int("SAHA_LOGIN_ATTEMPTS", 5, minimum=1)
ACCOUNT_RATE_LIMITS = {
    "login_failed": f"10/m/ip,{SAHA_LOGIN_ATTEMPTS}/5m/key",
}
SAHA_OPEN_SIGNUP = env.get_bool("SAHA_OPEN_SIGNUP", False)
MFA_ADAPTER = "saha.accounts.adapter.MFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
MFA_TOTP_ISSUER = env.get_str("SAHA_MFA_ISSUER", "Saha")
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG
MFA_PASSKEY_LOGIN_ENABLED = False
# Members see where they are signed in and can end a session on a lost phone.
USERSESSIONS_TRACK_ACTIVITY = True
# ... recorded at most this often per session (and at once when its address or
# browser changes): allauth's own middleware writes on every request.
SAHA_SESSION_ACTIVITY_SECONDS = env.get_int("SAHA_SESSION_ACTIVITY_SECONDS", 60, minimum=0)

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.ScryptPasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
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

# --- Background work ----------------------------------------------------------

TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}
# A worker writes a heartbeat this often; one silent for the timeout is dead and
# the tasks it held go back to the queue.
SAHA_WORKER_HEARTBEAT_SECONDS = env.get_int("SAHA_WORKER_HEARTBEAT_SECONDS", 10, minimum=1)
SAHA_WORKER_DEAD_AFTER_SECONDS = env.get_int("SAHA_WORKER_DEAD_AFTER_SECONDS", 60, minimum=2)
if SAHA_WORKER_DEAD_AFTER_SECONDS < 2 * SAHA_WORKER_HEARTBEAT_SECONDS:
    # Otherwise a live worker between two beats looks dead and its task runs twice.
    raise ImproperlyConfigured(
        "SAHA_WORKER_DEAD_AFTER_SECONDS must be at least twice SAHA_WORKER_HEARTBEAT_SECONDS."
    )
SAHA_TASK_MAX_ATTEMPTS = env.get_int("SAHA_TASK_MAX_ATTEMPTS", 5, minimum=1)
SAHA_TASK_RESULT_DAYS = env.get_int("SAHA_TASK_RESULT_DAYS", 14, minimum=1)

# --- Open API (OSDI, Action Network v2 dialect; saha/api) ----------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["saha.api.auth.TokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["saha.api.auth.HasScope"],
    "DEFAULT_RENDERER_CLASSES": ["saha.api.hal.HalJSONRenderer", "saha.api.hal.PlainJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["saha.api.hal.HalJSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "saha.api.hal.LenientNegotiation",
    "EXCEPTION_HANDLER": "saha.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Saha API (OSDI, Action Network v2 dialect)",
    "DESCRIPTION": "HAL+JSON under /api/v2/. Send the token in the OSDI-API-Token header. "
    "See docs/api.md.",
    "VERSION": "2.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SORT_OPERATIONS": True,
    "APPEND_COMPONENTS": {
        "securitySchemes": {
            "osdiToken": {"type": "apiKey", "in": "header", "name": "OSDI-API-Token"}
        }
    },
    "SECURITY": [{"osdiToken": []}],
    # saha/api/schema.py: only /api/v2, paths as the API links them, tags per resource,
    # sorted so the committed docs/api/openapi.yaml is the same on every machine.
    "PREPROCESSING_HOOKS": ["saha.api.schema.preprocess"],
    # Choice sets several fields share get one name (else a hash, and a warning that
    # saha/api/tests/test_schema.py fails on); keep the paths in step with the code.
    "ENUM_NAME_OVERRIDES": {
        "ContactStatusEnum": "saha.api.resources.person_input.INPUT_STATUSES",
        "LanguageEnum": "saha.api.schema.language_codes",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "saha.api.schema.postprocess",
    ],
}
# Calls per token per minute; over it the API answers 429 with Retry-After.
SAHA_API_RATE_PER_MINUTE = env.get_int("SAHA_API_RATE_PER_MINUTE", 240, minimum=1)
# Unauthenticated calls to the public helpers (sign-up, attendance, signature) per
# client address per minute, all helpers together; over it they do nothing and answer 200 {}.
SAHA_API_PUBLIC_HELPER_PER_MINUTE = env.get_int("SAHA_API_PUBLIC_HELPER_PER_MINUTE", 10, minimum=1)
# Webhooks may call private and loopback addresses only when the operator says so.
SAHA_WEBHOOKS_ALLOW_PRIVATE = env.get_bool("SAHA_WEBHOOKS_ALLOW_PRIVATE", False)

# --- Security -----------------------------------------------------------------

SAHA_HTTPS = env.get_bool("SAHA_HTTPS", False)
SAHA_BEHIND_PROXY = env.get_bool("SAHA_BEHIND_PROXY", False)
# How many reverse proxies append to X-Forwarded-For before a request reaches
# Saha; the client's address is read that many entries from the end.
SAHA_PROXY_COUNT = env.get_int("SAHA_PROXY_COUNT", 1 if SAHA_BEHIND_PROXY else 0, minimum=0)
if SAHA_BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True
SECURE_SSL_REDIRECT = SAHA_HTTPS
SESSION_COOKIE_SECURE = SAHA_HTTPS
CSRF_COOKIE_SECURE = SAHA_HTTPS
LANGUAGE_COOKIE_SECURE = SAHA_HTTPS
SECURE_HSTS_SECONDS = env.get_int("SAHA_HSTS_SECONDS", 31536000 if SAHA_HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SAHA_HTTPS
SECURE_HSTS_PRELOAD = SAHA_HTTPS
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.get_int("SAHA_SESSION_HOURS", 12, minimum=1) * 3600
X_FRAME_OPTIONS = "DENY"

# --- Logging ------------------------------------------------------------------

LOG_LEVEL = env.get_str("SAHA_LOG_LEVEL", "INFO").upper()
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    raise ImproperlyConfigured("SAHA_LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
# No ADMINS: Django would mail each error from inside the failing request, with
# its details. Errors go to the log; watch it (docs/operators.md).
ADMINS: list[tuple[str, str]] = []
