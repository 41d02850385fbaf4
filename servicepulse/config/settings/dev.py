"""Laptop and demo settings: what `servicepulse run` uses unless DJANGO_SETTINGS_MODULE says otherwise."""

from servicepulse.config.env import get_env
from servicepulse.config.settings.base import *  # noqa: F403

ENCRYPTION_KEY = ENCRYPTION_KEY or secret_from_data_dir("encryption_key.fernet", fernet=True)  # noqa: F405

# On a laptop there is rarely an SMTP server: e-mails (subscriptions, reports, alerts) are written as files
# to var/mail/ so they can be read. Set SERVICEPULSE_EMAIL_BACKEND to send for real.
EMAIL_BACKEND = get_env("SERVICEPULSE_EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = DATA_DIR / "mail"  # noqa: F405
