"""Production settings: refuse to start without real secrets, secure cookies, HSTS.

Required: SERVICEPULSE_SECRET_KEY, SERVICEPULSE_ENCRYPTION_KEY, SERVICEPULSE_ALLOWED_HOSTS, SERVICEPULSE_BASE_URL,
DATABASE_URL (and REDIS_URL with SERVICEPULSE_TASK_BACKEND=rq).
"""

from urllib.parse import urlsplit

from cryptography.fernet import Fernet
from django.http.request import validate_host

from servicepulse.config.env import ConfigurationError, get_env, str_to_bool
from servicepulse.config.settings.base import *  # noqa: F403

SECRET_KEY = get_env("SERVICEPULSE_SECRET_KEY", required=True)
if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
    raise ConfigurationError(
        "environment variable SERVICEPULSE_SECRET_KEY must be a random string of 50+ chars"
    )
ENCRYPTION_KEY = get_env("SERVICEPULSE_ENCRYPTION_KEY", required=True)
try:  # a placeholder left in the environment file would otherwise pass, then fail at the first source secret
    Fernet(ENCRYPTION_KEY.encode())
except ValueError:
    raise ConfigurationError(
        "environment variable SERVICEPULSE_ENCRYPTION_KEY must be a Fernet key (32 url-safe base64-encoded bytes): "
        'make one with python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
    ) from None
ALLOWED_HOSTS = get_env("SERVICEPULSE_ALLOWED_HOSTS", required=True, cast=str_to_list)  # noqa: F405
if not ALLOWED_HOSTS:
    raise ConfigurationError(
        "environment variable SERVICEPULSE_ALLOWED_HOSTS names no host (e.g. pulse.example.ac.uk)"
    )
for _host in ALLOWED_HOSTS:
    if "/" in _host:  # every request would then be refused as a bad Host (400)
        raise ConfigurationError(
            f"environment variable SERVICEPULSE_ALLOWED_HOSTS: {_host!r} is an address, not a host name: write "
            "the host name alone (pulse.example.ac.uk), as the Host header carries it"
        )
# Every link servicepulse writes without a request (alert and report e-mails, closed-loop replies, feeds,
# embed snippets) starts with it; the laptop default, http://127.0.0.1:8000, would reach nobody.
_base = urlsplit(get_env("SERVICEPULSE_BASE_URL", required=True))
if _base.scheme not in ("http", "https") or not _base.hostname:
    raise ConfigurationError(
        "environment variable SERVICEPULSE_BASE_URL must be the address people reach servicepulse at, "
        f"e.g. https://pulse.example.ac.uk, not {BASE_URL!r}"  # noqa: F405
    )
if not validate_host(_base.hostname, ALLOWED_HOSTS):
    raise ConfigurationError(
        f"environment variable SERVICEPULSE_BASE_URL: its host {_base.hostname!r} is not in "
        "SERVICEPULSE_ALLOWED_HOSTS, so every link servicepulse writes would be refused (400): add it there"
    )
get_env("DATABASE_URL", required=True)
if TASK_BACKEND == "rq" and not get_env("REDIS_URL", None):  # noqa: F405
    # base.py falls back to this machine's own Redis: each web machine would queue tasks that no worker on
    # another machine ever sees.
    raise ConfigurationError(
        "environment variable REDIS_URL is required with SERVICEPULSE_TASK_BACKEND=rq: set it to the Redis every "
        "machine shares (e.g. redis://cache.internal:6379/3)"
    )
DEBUG = False
SERVICEPULSE_DEMO_ALLOWED = False  # its accounts' passwords are in the README
if SERVICEPULSE_FETCH_ALLOW_PRIVATE:  # noqa: F405
    # It lifts the address guard for every fetch, webmention and pingback sources included: anyone on the
    # internet could then make the server fetch its own loopback, the intranet or the cloud metadata address.
    raise ConfigurationError(
        "environment variable SERVICEPULSE_FETCH_ALLOW_PRIVATE is for tests and local demos only: unset it and "
        "name the private networks servicepulse may fetch from in SERVICEPULSE_FETCH_ALLOW_NETWORKS"
    )

SECURE_SSL_REDIRECT = get_env("SERVICEPULSE_SSL_REDIRECT", True, cast=str_to_bool)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = get_env("SERVICEPULSE_HSTS_SECONDS", 31536000, cast=int)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_REFERRER_POLICY = "same-origin"
