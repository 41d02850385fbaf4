"""Production settings: refuse to start without real secrets, secure cookies, HSTS.

Required: SERVICEPULSE_SECRET_KEY, SERVICEPULSE_ENCRYPTION_KEY, SERVICEPULSE_ALLOWED_HOSTS, DATABASE_URL.
"""

from cryptography.fernet import Fernet

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
get_env("DATABASE_URL", required=True)
DEBUG = False
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
