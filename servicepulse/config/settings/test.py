"""Settings for the test suite: fast hashing, in-memory mail, tasks run by the database backend."""

from servicepulse.config.settings.base import *  # noqa: F403

ENCRYPTION_KEY = "k9mXQ0q6L6x1ySHn0Bq2vUuVv0m2n8l6o0d0q5X9f1U="  # test-only Fernet key
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SERVICEPULSE_FETCH_ALLOW_PRIVATE = True
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LOGGING["root"]["level"] = "WARNING"  # type: ignore[index]  # noqa: F405
