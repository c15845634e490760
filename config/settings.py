"""Stream's settings: one module, everything that varies comes from the environment.

Development needs nothing set: DEBUG is on, the database is the embedded PostgreSQL
server (see ``ops.embedded_db``), e-mail goes to the console. Production sets
``DEBUG=false`` and must then provide ``SECRET_KEY`` and ``ALLOWED_HOSTS``.
"""

import os
import warnings
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from config import static
from ops import embedded_db, npm_assets, pyodide
from web import media

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}.")


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", default=True)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG is off.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    # WhiteNoise serves static files in development too (runserver's own handler sends no cache headers).
    "whitenoise.runserver_nostatic",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # Before staticfiles: its collectstatic (config/management/commands) extends Django's.
    "config.apps.StreamConfig",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.sitemaps",  # its sitemap.xml template (/sitemap.xml, courses/sitemaps.py)
    "django.contrib.postgres",  # the trigram lookups of search (courses/search.py)
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    # Before django_tasks_db: its db_worker (worker/management/commands) extends django-tasks-db's.
    "worker",
    "django_tasks_db",
    "courses",
    "progress",
    "accounts",
    "comments",
    "certificates",
]

# GitHub and Google sign-in switch on when their keys are in the environment.
SOCIALACCOUNT_PROVIDERS = {}
for provider, prefix in [("github", "GITHUB"), ("google", "GOOGLE")]:
    client_id = os.environ.get(f"{prefix}_CLIENT_ID")
    secret = os.environ.get(f"{prefix}_CLIENT_SECRET")
    if client_id and secret:
        INSTALLED_APPS.append(f"allauth.socialaccount.providers.{provider}")
        SOCIALACCOUNT_PROVIDERS[provider] = {"APPS": [{"client_id": client_id, "secret": secret}]}

MIDDLEWARE = [
    # First: one log line per request, timing everything below (web/logs.py).
    "config.middleware.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Early, so every answer carries them: the 400 page of RejectNullCharactersMiddleware and the 503 page too.
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # Static files with cache headers: far-future for the hashed names of `make serve`, revalidated
    # (ETag, Last-Modified, max-age=0) in development, where files are found in place and change.
    "config.middleware.StaticFilesMiddleware",
    # Compresses HTML where no proxy does. Safe against BREACH: Django masks the CSRF token afresh in every
    # response and this middleware pads each response with random bytes (Heal-The-BREACH).
    "django.middleware.gzip.GZipMiddleware",
    # Before the NUL check, so its 400 page is in the reader's language (the language comes from the
    # cookie or Accept-Language, never from the session).
    "django.middleware.locale.LocaleMiddleware",
    # Before the session middleware: it drops cookies the session lookup could not handle.
    "config.middleware.RejectNullCharactersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.ClearStorageOnSignOutMiddleware",
    "config.middleware.AdminTimeZoneMiddleware",
    # Last, so a view's database error reaches it first: a 503 page while the database is unreachable.
    "config.middleware.DatabaseUnavailableMiddleware",
]

WHITENOISE_USE_FINDERS = DEBUG
# Cached for good: hashed names, as WhiteNoise decides, and Pyodide's files, whose names are fixed but whose
# folder is named after their version (config/static.py).
WHITENOISE_IMMUTABLE_FILE_TEST = static.immutable_file_test
# STATIC_ROOT exists only after `collectstatic` (make serve); in development files come from the finders.
warnings.filterwarnings("ignore", message="No directory at: .*staticfiles")
ROOT_URLCONF = "config.urls"
CSRF_FAILURE_VIEW = "config.views.csrf_failure"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                # {{ csp_nonce }}: a page that renders it lets its scripts add one <style> (the lesson editor's).
                "django.template.context_processors.csp",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "comments.context_processors.notifications",
                "config.context_processors.pyodide",
                "config.context_processors.reader_zone",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or embedded_db.database_url(),
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
# A database host that drops packets must not hold a request or a start for minutes (libpq waits forever by
# default); a connect_timeout in DATABASE_URL's query string wins.
DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The cache holds allauth's rate limits, so every web process must see the same one: Redis when
# REDIS_URL is set, else a table in the database (created after every migrate, see accounts/apps.py).
# A Redis that goes away degrades the site instead of failing it (web/cache.py); the short timeouts keep a
# dead one from holding each request for seconds.
DATABASE_CACHE = {
    "BACKEND": "django.core.cache.backends.db.DatabaseCache",
    "LOCATION": "stream_cache",
    # Past MAX_ENTRIES the cache drops a third of its rows, rate-limit records too: a flood
    # of sign-in attempts must not be able to wipe the records that limit it.
    "OPTIONS": {"MAX_ENTRIES": 100_000},
}
if REDIS_URL := os.environ.get("REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "web.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.5},
        },
        # Where the rate limits go while Redis is unreachable (web.cache.FALLBACK_CACHE): they fail closed.
        "database": DATABASE_CACHE,
    }
else:
    CACHES = {"default": DATABASE_CACHE}
# Sessions are in the database alone (Django's default, "db"): a sign-out or a password change ends them there,
# and no copy in Redis can outlive it while Redis is stalled or its process dies. The cost: one indexed read
# per signed-in request.
SESSION_ENGINE = "django.contrib.sessions.backends.db"

# How long a rendered page may be kept in the cache (web/page_cache.py). Off in development, where
# templates change under the developer's hands.
PAGE_CACHE_SECONDS = int(os.environ.get("PAGE_CACHE_SECONDS") or (0 if DEBUG else 60))

# Slow work (e-mail) is queued in the database and done by `manage.py db_worker`, which
# `make run` and `make serve` start beside the web server.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTH_USER_MODEL = "accounts.User"

# The name and domain that e-mails and the sites framework use; applied to the Site row after
# every migrate (accounts/apps.py). Links in e-mails use the host of the request that sent them.
SITE_ID = 1
SITE_NAME = os.environ.get("SITE_NAME", "Stream")
SITE_DOMAIN = os.environ.get("SITE_DOMAIN") or next(
    (host.lstrip(".") for host in ALLOWED_HOSTS if host not in {"*", "."}), "localhost"
)

LOGIN_REDIRECT_URL = "/"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = os.environ.get("ACCOUNT_EMAIL_VERIFICATION", "mandatory")
ACCOUNT_UNIQUE_EMAIL = True
# Confirming in the browser that signed up signs in and returns to the page the sign-up came from.
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{SITE_NAME}] "
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_FORMS = {"signup": "accounts.forms.SignupForm"}
# allauth's defaults, plus ours: the "send the confirmation link again" form (accounts.services) and
# the progress endpoints (progress.views), which a learner's clicks never come near.
ACCOUNT_RATE_LIMITS = {
    "resend_confirmation": "5/m/ip,20/h/ip",
    "complete_lesson": "30/m/user,300/h/user",
    # progress.views.exercise_done: the page's script reports each exercise whose checks passed.
    "complete_exercise": "30/m/user,300/h/user",
    "sync_progress": "10/m/user",
    "comment": "5/m/user,50/d/user",
    # comments.views.preview renders Markdown on the press of "Preview": far above a writer's pace, never unlimited.
    "comment_preview": "30/m/user,600/h/user",
    "report_problem": "5/m/ip,30/d/ip",
    # The "download my data" button (accounts.views.export_data): each export reads all of a learner's rows.
    "export_data": "3/h/user",
    # /search/ (courses.views.search_page): a search costs up to a few hundred milliseconds of the
    # database; a classroom behind one address stays far below this.
    "search": "120/m/ip",
    # /sitemap.xml and its sections (courses.views.sitemap): answered from one copy, made again after each change
    # of content; a crawler reads a few files now and then.
    "sitemap": "30/m/ip,300/h/ip",
}
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True

# E-mail: the console in development; SMTP in production (EMAIL_HOST, default a local MTA).
if os.environ.get("EMAIL_HOST") or not DEBUG:
    email_host = os.environ.get("EMAIL_HOST", "localhost")
    remote = email_host != "localhost"
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": email_host,
                "port": int(os.environ.get("EMAIL_PORT", "587" if remote else "25")),
                "username": os.environ.get("EMAIL_HOST_USER", ""),
                "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
                "use_tls": env_bool("EMAIL_USE_TLS", default=remote),
                "timeout": 10,
            },
        }
    }
else:
    # Readable in the terminal and kept in .mail/ for the staff-only inbox at /dev/mail/.
    MAILERS = {
        "default": {
            "BACKEND": "accounts.mail.DevelopmentEmailBackend",
            "OPTIONS": {"file_path": BASE_DIR / ".mail"},
        }
    }
DEFAULT_FROM_EMAIL = os.environ.get(
    "DEFAULT_FROM_EMAIL", f"{SITE_NAME} <noreply@{urlsplit('//' + SITE_DOMAIN).hostname}>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ko", _("Korean"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_AGE = 60 * 60 * 24 * 365
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Uploaded lesson images (courses/images.py), through the default storage: MEDIA_ROOT, or with MEDIA_S3_BUCKET
# and its companions an S3-compatible object store that several web servers share (web/media.py).
MEDIA = media.from_environment(os.environ)
MEDIA_URL = MEDIA.url
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
LESSON_IMAGE_MAX_BYTES = 5 * 1024 * 1024
LESSON_IMAGE_MAX_PIXELS = 40_000_000
# Pyodide's files, fetched by `make install` (ops/pyodide.py), are served at {STATIC_URL}pyodide/<version>/,
# and the npm packages of package-lock.json (ops/npm_assets.py) at {STATIC_URL}vendor/.
PYODIDE_VERSION = pyodide.VERSION
STATICFILES_DIRS = [BASE_DIR / "static", ("pyodide", pyodide.FOLDER), ("vendor", npm_assets.FOLDER)]
STORAGES = {
    "default": MEDIA.storage,
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "config.storage.StaticFilesStorage"
    },
}

# No inline script anywhere: behaviour lives in static/js/. WebAssembly may be compiled (Pyodide, which runs
# learners' Python in a Web Worker of the site's own).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.WASM_UNSAFE_EVAL],
    "worker-src": [CSP.SELF],
    # The nonce is in the header only on a page that rendered it (the admin's lesson editor: CodeMirror's styles).
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:", *([MEDIA.origin] if MEDIA.origin else [])],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# check --deploy's reminder that HSTS preloading is off: it is off on purpose until the operator opts in.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
if not DEBUG:
    # HTTPS=false is for `make cluster` only: plain http on loopback, where Secure cookies would never come
    # back to a client that is not a browser. A real server keeps the default.
    HTTPS = env_bool("HTTPS", default=True)
    SECURE_SSL_REDIRECT = HTTPS and env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(60 * 60 * 24 * 365))) if HTTPS else 0
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # Asking browsers to preload HSTS is a commitment for the domain and all its subdomains (hstspreload.org):
    # the operator's to make, with SECURE_HSTS_PRELOAD=true.
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=False)
    SESSION_COOKIE_SECURE = HTTPS
    CSRF_COOKIE_SECURE = HTTPS
    LANGUAGE_COOKIE_SECURE = HTTPS

# The client's address for per-address rate limits (allauth's and ours, ACCOUNT_RATE_LIMITS with /ip):
# behind TRUSTED_PROXY_COUNT proxies of our own (1: nginx), the one the nearest proxy appended to
# X-Forwarded-For; with none (the default), the connection's address, whatever a client claims.
ALLAUTH_TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT") or 0)

LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
LOG_FORMAT = os.environ.get("LOG_FORMAT", "plain")
if LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json, not {LOG_FORMAT!r}.")
# One handler, on the root logger. Django's own configuration also gives the "django" logger a console
# handler; without "handlers": [] here every django.* line would print twice (once there, once at the root).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "{asctime} {levelname} {name}: {message}", "style": "{"},
        "json": {"()": "web.logs.JsonFormatter"},
    },
    # LOG_FORMAT=json: one JSON object per line, for a log collector.
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django": {"handlers": [], "level": LOG_LEVEL, "propagate": True}},
}
# REQUEST_LOG_FILE: the request lines (stream.request) go to this file, appended by each web process itself and
# reopened when logrotate moves it, instead of to the console, from where whatever runs the server (honcho,
# supervisord) relays each line through a pipe of its own: a cost on every request. The rest stays on the console.
REQUEST_LOG_FILE = os.environ.get("REQUEST_LOG_FILE", "")
if REQUEST_LOG_FILE:
    LOGGING["handlers"]["requests"] = {
        "class": "logging.handlers.WatchedFileHandler",
        "filename": REQUEST_LOG_FILE,
        "formatter": LOG_FORMAT,
        "delay": True,
    }
    LOGGING["loggers"]["stream.request"] = {"handlers": ["requests"], "level": LOG_LEVEL, "propagate": False}
