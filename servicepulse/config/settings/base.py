"""Settings shared by every environment. Environment modules (dev, test, prod) override a few names."""

from __future__ import annotations

import base64
import secrets
from pathlib import Path

import dj_database_url

from servicepulse import __version__
from servicepulse.config.env import (
    get_env,
    str_to_bool,
    str_to_choice,
    str_to_days,
    str_to_json_object,
    str_to_list,
    str_to_log_level,
    str_to_networks,
    str_to_time_zone,
)

PACKAGE_DIR = Path(__file__).resolve().parent.parent.parent
DATA_DIR = Path(get_env("SERVICEPULSE_DATA_DIR", "var")).resolve()
VERSION = __version__


def secret_from_data_dir(name: str, *, fernet: bool = False) -> str:
    """A random secret kept in the data dir, so a laptop demo works with nothing configured."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / name
    if not path.exists():
        value = (
            base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
            if fernet
            else secrets.token_urlsafe(50)
        )
        path.write_text(value)
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = get_env("SERVICEPULSE_SECRET_KEY", None) or secret_from_data_dir("secret_key")
# Fernet key (urlsafe base64, 32 bytes) for source secrets at rest; generated into the data dir for demos.
ENCRYPTION_KEY = get_env("SERVICEPULSE_ENCRYPTION_KEY", None)
DEBUG = get_env("SERVICEPULSE_DEBUG", False, cast=str_to_bool)
ALLOWED_HOSTS = get_env("SERVICEPULSE_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"], cast=str_to_list)
CSRF_TRUSTED_ORIGINS = get_env("SERVICEPULSE_CSRF_TRUSTED_ORIGINS", [], cast=str_to_list)
BASE_URL = get_env("SERVICEPULSE_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sites",
    "django_tasks",
    "django_tasks_db",
    "django_htmx",
    "csp",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "servicepulse.core",
    "servicepulse.accounts",
    "servicepulse.catalog",
    "servicepulse.sources",
    "servicepulse.mentions",
    "servicepulse.analysis",
    "servicepulse.incidents",
    "servicepulse.experience",
    "servicepulse.engage",
    "servicepulse.status",
    "servicepulse.blog",
    "servicepulse.publish",
    "servicepulse.dashboard",
    "servicepulse.demo",
]

MIDDLEWARE = [
    "servicepulse.core.middleware.health_probe",  # load balancers probe at the process's own address, over HTTP
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
]

# Content Security Policy: scripts only from our own origin (no inline script), nothing framed.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],  # inline SVG charts carry style attributes
        # Blog posts link images from other sites (there is no upload); comments cannot carry images.
        "img-src": ["'self'", "data:", "https:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

ROOT_URLCONF = "servicepulse.config.urls"
WSGI_APPLICATION = "servicepulse.config.wsgi.application"

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
                "servicepulse.core.context_processors.site",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        get_env("DATABASE_URL", f"sqlite:///{DATA_DIR / 'servicepulse.sqlite3'}"),
        conn_max_age=get_env("SERVICEPULSE_DB_CONN_MAX_AGE", 60, cast=int),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while the worker writes; a busy timeout rides out short write locks.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
SITE_ID = 1
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = get_env("SERVICEPULSE_EMAIL_VERIFICATION", "optional")
# No local sign-up: admins add people (Users page, `servicepulse users add`); SSO sign-up stays open.
ACCOUNT_ADAPTER = "servicepulse.accounts.adapters.AccountAdapter"
# Links allauth writes without a request (e-mails from commands) use BASE_URL's scheme; the Site row (name and
# domain) is kept in step with BASE_URL and SERVICEPULSE_ORGANISATION after every migrate (accounts/apps.py).
ACCOUNT_DEFAULT_HTTP_PROTOCOL = BASE_URL.partition("://")[0] if "://" in BASE_URL else "http"

# Single sign-on (dashboard issue): each provider is switched on only when its client id is set.
# New SSO users get the role in SERVICEPULSE_SSO_DEFAULT_ROLE (empty: none until an admin gives one on the
# Users page, /accounts/users/).
SOCIALACCOUNT_PROVIDERS: dict[str, dict] = {}
SOCIALACCOUNT_ADAPTER = "servicepulse.accounts.adapters.SocialAccountAdapter"
# accounts.roles.Role's values, written out: settings cannot import models (a test keeps them equal).
SSO_ROLES = ("viewer", "responder", "admin")
SERVICEPULSE_SSO_DEFAULT_ROLE = get_env("SERVICEPULSE_SSO_DEFAULT_ROLE", "", cast=str_to_choice(*SSO_ROLES))
SERVICEPULSE_SSO_OIDC_PROVIDER_ID = get_env("SERVICEPULSE_SSO_OIDC_PROVIDER_ID", "sso")


def _sso_secret(provider: str) -> str:
    """The client secret that must come with SERVICEPULSE_SSO_<provider>_CLIENT_ID."""
    from servicepulse.config.env import ConfigurationError

    name = f"SERVICEPULSE_SSO_{provider}_SECRET"
    secret = get_env(name, None)
    if not secret:
        raise ConfigurationError(
            f"environment variable {name} is required when SERVICEPULSE_SSO_{provider}_CLIENT_ID is set"
        )
    return str(secret)


if get_env("SERVICEPULSE_SSO_MICROSOFT_CLIENT_ID", None):
    INSTALLED_APPS.append("allauth.socialaccount.providers.microsoft")
    SOCIALACCOUNT_PROVIDERS["microsoft"] = {
        "APPS": [
            {
                "client_id": get_env("SERVICEPULSE_SSO_MICROSOFT_CLIENT_ID"),
                "secret": _sso_secret("MICROSOFT"),
                "settings": {"tenant": get_env("SERVICEPULSE_SSO_MICROSOFT_TENANT", "organizations")},
            }
        ]
    }
if get_env("SERVICEPULSE_SSO_GOOGLE_CLIENT_ID", None):
    INSTALLED_APPS.append("allauth.socialaccount.providers.google")
    SOCIALACCOUNT_PROVIDERS["google"] = {
        "APPS": [
            {
                "client_id": get_env("SERVICEPULSE_SSO_GOOGLE_CLIENT_ID"),
                "secret": _sso_secret("GOOGLE"),
                "settings": {"scope": ["profile", "email"]},
            }
        ]
    }
if get_env("SERVICEPULSE_SSO_GITHUB_CLIENT_ID", None):  # blog issue: commenters sign in with GitHub
    INSTALLED_APPS.append("allauth.socialaccount.providers.github")
    SOCIALACCOUNT_PROVIDERS["github"] = {
        "APPS": [
            {
                "client_id": get_env("SERVICEPULSE_SSO_GITHUB_CLIENT_ID"),
                "secret": _sso_secret("GITHUB"),
            }
        ],
        "SCOPE": ["read:user", "user:email"],
    }
if get_env("SERVICEPULSE_SSO_OIDC_CLIENT_ID", None):
    INSTALLED_APPS.append("allauth.socialaccount.providers.openid_connect")
    SOCIALACCOUNT_PROVIDERS["openid_connect"] = {
        "APPS": [
            {
                "provider_id": SERVICEPULSE_SSO_OIDC_PROVIDER_ID,
                "name": get_env("SERVICEPULSE_SSO_OIDC_NAME", "Single sign-on"),
                "client_id": get_env("SERVICEPULSE_SSO_OIDC_CLIENT_ID"),
                "secret": _sso_secret("OIDC"),
                "settings": {
                    "server_url": get_env("SERVICEPULSE_SSO_OIDC_SERVER_URL", required=True),
                    "oauth_pkce_enabled": True,
                },
            }
        ]
    }

# Google and Microsoft's multi-tenant sign-in let anyone with such an account in: the default role is given
# only to verified addresses in these domains, and a default role without them is refused at start-up.
SERVICEPULSE_SSO_ALLOWED_DOMAINS = [
    d.lower().lstrip("@") for d in get_env("SERVICEPULSE_SSO_ALLOWED_DOMAINS", [], cast=str_to_list)
]
_OPEN_TENANTS = {"organizations", "common", "consumers"}
if (
    SERVICEPULSE_SSO_DEFAULT_ROLE
    and not SERVICEPULSE_SSO_ALLOWED_DOMAINS
    and (
        "google" in SOCIALACCOUNT_PROVIDERS
        or (
            "microsoft" in SOCIALACCOUNT_PROVIDERS
            and SOCIALACCOUNT_PROVIDERS["microsoft"]["APPS"][0]["settings"]["tenant"] in _OPEN_TENANTS
        )
    )
):
    from servicepulse.config.env import ConfigurationError

    raise ConfigurationError(
        "SERVICEPULSE_SSO_DEFAULT_ROLE would give a role to anyone with a Google or Microsoft account: set "
        "SERVICEPULSE_SSO_ALLOWED_DOMAINS (e.g. northgate.ac.uk) or SERVICEPULSE_SSO_MICROSOFT_TENANT to your "
        "tenant id"
    )

LANGUAGE_CODE = "en-gb"
TIME_ZONE = get_env("SERVICEPULSE_TIME_ZONE", "Europe/London", cast=str_to_time_zone)
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise serves from finders until collectstatic fills it
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": get_env("REDIS_URL", None),
        }
        if get_env("REDIS_URL", None)
        else {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "servicepulse_cache",
            # Django's default, 300 entries, is passed by a few hundred visitors an hour (each counted by the
            # rate limits), and then a third of the table, live counters too, goes at every write: the limits
            # forget whom they counted. Expired entries are culled first; rows are small.
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    )
}

# Background work: django_tasks with the database backend by default; RQ on Redis as an option.
TASK_BACKEND = get_env("SERVICEPULSE_TASK_BACKEND", "database")
if TASK_BACKEND == "rq":
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    RQ_QUEUES = {"default": {"URL": get_env("REDIS_URL", "redis://127.0.0.1:6379/0")}}
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
elif TASK_BACKEND == "database":
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
elif TASK_BACKEND == "immediate":
    TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
else:
    from servicepulse.config.env import ConfigurationError

    raise ConfigurationError(
        f"environment variable SERVICEPULSE_TASK_BACKEND: {TASK_BACKEND!r} is not one of database, rq, immediate"
    )

# The database backend keeps what the worker did this many days (a failed task's error longer, to be looked
# into); then the nightly housekeeping deletes it: the periodic jobs alone add some 7,000 rows a day.
SERVICEPULSE_TASK_RESULTS_KEEP_DAYS = get_env("SERVICEPULSE_TASK_RESULTS_KEEP_DAYS", 7, cast=str_to_days)
SERVICEPULSE_FAILED_TASKS_KEEP_DAYS = get_env("SERVICEPULSE_FAILED_TASKS_KEEP_DAYS", 30, cast=str_to_days)

EMAIL_BACKEND = get_env("SERVICEPULSE_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = get_env("SERVICEPULSE_SMTP_HOST", "127.0.0.1")
EMAIL_PORT = get_env("SERVICEPULSE_SMTP_PORT", 25, cast=int)
EMAIL_HOST_USER = get_env("SERVICEPULSE_SMTP_USER", "")
EMAIL_HOST_PASSWORD = get_env("SERVICEPULSE_SMTP_PASSWORD", "")
EMAIL_USE_TLS = get_env("SERVICEPULSE_SMTP_TLS", False, cast=str_to_bool)
DEFAULT_FROM_EMAIL = get_env("SERVICEPULSE_FROM_EMAIL", "servicepulse@localhost")

# Outbound fetches of user-supplied URLs refuse private/loopback addresses unless this is on (tests, local demos).
SERVICEPULSE_FETCH_ALLOW_PRIVATE = get_env("SERVICEPULSE_FETCH_ALLOW_PRIVATE", False, cast=str_to_bool)
# Let outbound fetches reach just these private networks (CIDRs), e.g. an intranet feed server.
SERVICEPULSE_FETCH_ALLOW_NETWORKS = get_env("SERVICEPULSE_FETCH_ALLOW_NETWORKS", [], cast=str_to_networks)
SERVICEPULSE_EMBEDDING_MODEL = get_env("SERVICEPULSE_EMBEDDING_MODEL", None)
# A JSON file of term periods ([{"start", "end", "kind"}]) for detection baselines; the demo's when unset.
SERVICEPULSE_TERM_CALENDAR = get_env("SERVICEPULSE_TERM_CALENDAR", "")
# An address sending this many refused webhook deliveries in a minute is answered 429 for a minute.
SERVICEPULSE_WEBHOOK_FAILURES_PER_MINUTE = get_env("SERVICEPULSE_WEBHOOK_FAILURES_PER_MINUTE", 30, cast=int)
# Stricter reply rates per source kind than the built-in table, e.g. {"mastodon": [300, 10800]} (replies, seconds).
SERVICEPULSE_REPLY_RATES = get_env("SERVICEPULSE_REPLY_RATES", {}, cast=str_to_json_object)
# Service-desk resolution targets per priority in hours, e.g. {"P1": 4, "P2": 8}, for the report's SLA section.
SERVICEPULSE_SLA_TARGET_HOURS = get_env("SERVICEPULSE_SLA_TARGET_HOURS", {}, cast=str_to_json_object)
# The report's "ahead of the desk": a ticket counts as the desk hearing of an incident up to this many desk hours
# (weekdays 08:00-18:00) after the incident was resolved; a later ticket about the service is another matter.
SERVICEPULSE_DESK_TICKET_GRACE_HOURS = get_env("SERVICEPULSE_DESK_TICKET_GRACE_HOURS", 4.0, cast=float)
# Largest webhook delivery accepted at /sources/hooks/<source>/ (bytes); larger ones get 413.
SERVICEPULSE_WEBHOOK_MAX_BYTES = get_env("SERVICEPULSE_WEBHOOK_MAX_BYTES", 1024 * 1024, cast=int)
# Addresses (or networks) of the reverse proxies in front of servicepulse: a request from one of them is
# counted against the client its X-Forwarded-For names (rate limits), not against the proxy itself.
SERVICEPULSE_TRUSTED_PROXIES = get_env("SERVICEPULSE_TRUSTED_PROXIES", [], cast=str_to_networks)
SERVICEPULSE_BUCKET_MINUTES = get_env("SERVICEPULSE_BUCKET_MINUTES", 15, cast=int)
# Whether the demo (whose accounts have published passwords) may be loaded: not with production settings.
SERVICEPULSE_DEMO_ALLOWED = True
# The demo's name, the default: production warns while it is still in use (core/checks.py).
DEMO_ORGANISATION = "Northgate University"
SERVICEPULSE_ORGANISATION = get_env("SERVICEPULSE_ORGANISATION", DEMO_ORGANISATION)
# Who gets the weekly experience report every Monday at 07:00 (comma-separated addresses; none: not sent).
SERVICEPULSE_REPORT_RECIPIENTS = get_env("SERVICEPULSE_REPORT_RECIPIENTS", [], cast=str_to_list)
# Who gets the weekly learning digest (comma-separated; none: the report recipients).
SERVICEPULSE_DIGEST_RECIPIENTS = get_env("SERVICEPULSE_DIGEST_RECIPIENTS", [], cast=str_to_list)
# The status page's log of e-mails sent (an address per update, kept so a re-run sends nothing twice) and
# subscriptions ended by unsubscribing are deleted this many days after; 0 keeps them for ever.
SERVICEPULSE_STATUS_EMAIL_LOG_DAYS = get_env("SERVICEPULSE_STATUS_EMAIL_LOG_DAYS", 90, cast=int)

SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

LOG_LEVEL = get_env("SERVICEPULSE_LOG_LEVEL", "INFO", cast=str_to_log_level)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "filters": {"refusal_without_traceback": {"()": "servicepulse.core.logfilters.RefusalWithoutTraceback"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # A 403 (a role check) or 404 is an answer, not a crash: one line, no traceback; a 500 keeps its own.
        "django.request": {"filters": ["refusal_without_traceback"]},
        # One line per periodic job at every start and every run: the scheduler says what it does itself.
        "apscheduler": {"level": "WARNING"},
        # httpx logs every request's full URL at INFO, query string included: the Facebook Graph API takes
        # the Page access token there, so INFO (the default) wrote the token into the log at every pull.
        "httpx": {"level": "WARNING"},
    },
}
