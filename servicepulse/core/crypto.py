"""Secrets at rest (source tokens, webhook secrets) are encrypted with Fernet and a key from the environment."""

from __future__ import annotations

import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def _fernet() -> Fernet:
    key = settings.ENCRYPTION_KEY
    if not key:
        raise ImproperlyConfigured(
            "SERVICEPULSE_ENCRYPTION_KEY is not set; it is needed to store source secrets"
        )
    return Fernet(key.encode() if isinstance(key, str) else key)


def encrypt_json(value: dict[str, Any]) -> str:
    return _fernet().encrypt(json.dumps(value, sort_keys=True).encode()).decode()


def decrypt_json(token: str) -> dict[str, Any]:
    if not token:
        return {}
    try:
        return json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "stored secrets cannot be decrypted: SERVICEPULSE_ENCRYPTION_KEY differs from the key they were saved with"
        ) from exc
