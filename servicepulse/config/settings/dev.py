"""Laptop and demo settings: what `servicepulse run` uses unless DJANGO_SETTINGS_MODULE says otherwise."""

from servicepulse.config.settings.base import *  # noqa: F403

ENCRYPTION_KEY = ENCRYPTION_KEY or secret_from_data_dir("encryption_key.fernet", fernet=True)  # noqa: F405
